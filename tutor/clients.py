"""Who the client is, for the per-client limits (message rate, sign-in throttle): the rule of
werkzeug's ProxyFix and uvicorn's ``--forwarded-allow-ips``. A proxy appends the address it
received the request from to ``X-Forwarded-For``; everything to the left of that was written by
whoever sent the request, so only hops appended by a configured proxy (TUTOR_TRUSTED_PROXIES)
are believed: walking from the right, the first address that is not a trusted proxy is the
client. When the connection itself does not come from a trusted proxy the header is ignored.

>>> proxies = TrustedProxies.parse("10.0.0.0/24")
>>> proxies.client("10.0.0.2", ["6.6.6.6, 203.0.113.7"])   # the client wrote 6.6.6.6 itself
'203.0.113.7'
>>> proxies.client("203.0.113.9", ["1.2.3.4"])              # not a proxy: header ignored
'203.0.113.9'

Streamlit's server (uvicorn) already rewrites the peer from the header when the peer is in
*its* trusted list (``FORWARDED_ALLOW_IPS``, default 127.0.0.1 and ::1), and the app only sees
the rewritten address. :func:`client_key` undoes that ambiguity: if the server's list is inside
ours the rewrite is one we would have made; otherwise a request whose address may have come
from the header is counted as one shared client (``UNVERIFIED``), never as the address it names.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import Iterable, Union

log = logging.getLogger(__name__)

Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
# uvicorn's default when FORWARDED_ALLOW_IPS is unset.
SERVER_DEFAULT = "127.0.0.1,::1"
# One client for every request whose address the server may have taken from a header it should
# not have believed: rotating the header then changes nothing.
UNVERIFIED = "unverified-forwarded"
# Without any address (no client context): one stable local client, never a fresh one per reload.
LOCAL = "127.0.0.1"
# A hop is an address (at most 45 characters for IPv6); anything longer is cut, so a header
# cannot make a key of any size.
MAX_HOP = 64


def _address(text: str) -> str:
    """A hop as a normalised address ("[::1]:80" → "::1", "::ffff:1.2.3.4" → "1.2.3.4"), or
    the text itself (cut) when it is not an address."""
    text = text.strip().strip('"')
    host = text
    if text.startswith("["):
        host = text[1:text.find("]")] if "]" in text else text
    elif text.count(":") == 1:
        host = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return text[:MAX_HOP]
    mapped = getattr(ip, "ipv4_mapped", None)
    return str(mapped or ip)


def hops(forwarded_for: Iterable[str]) -> list[str]:
    """The X-Forwarded-For hops, left to right, over every header line (as a proxy joins them)."""
    return [_address(part) for line in forwarded_for for part in str(line).split(",") if part.strip()]


@dataclass(frozen=True)
class TrustedProxies:
    """Addresses and networks of the proxies allowed to say who the client is."""

    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> "TrustedProxies":
        """From "10.0.0.2, 10.1.0.0/16, ::1" (raises ValueError naming a bad entry)."""
        networks = []
        for item in (part.strip() for part in (text or "").split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 10.0.0.2 or 10.0.0.0/24)") from None
        return cls(tuple(networks))

    def __contains__(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip.version == net.version and ip in net for net in self.networks)

    def within(self, other: "TrustedProxies") -> bool:
        """Whether every address trusted here is trusted by ``other`` too."""
        return all(any(net.version == big.version and net.subnet_of(big) for big in other.networks)
                   for net in self.networks)

    def pick(self, chain: list[str]) -> str:
        """The rightmost hop that is not a trusted proxy (all trusted: the leftmost)."""
        for hop in reversed(chain):
            if hop not in self:
                return hop
        return chain[0]

    def client(self, peer: str, forwarded_for: Iterable[str] = ()) -> str:
        """The client's address, given the connection's peer and the X-Forwarded-For lines."""
        peer = _address(peer) if peer else LOCAL
        if peer not in self:
            return peer
        chain = hops(forwarded_for)
        return self.pick(chain) if chain else peer


def server_proxies(forwarded_allow_ips: str | None) -> TrustedProxies:
    """The list Streamlit's server (uvicorn) trusts, from FORWARDED_ALLOW_IPS. "*" or an entry
    that is not an address (uvicorn then compares text) is read as "any address": the
    conservative reading, as it makes rewritten addresses count as UNVERIFIED."""
    value = SERVER_DEFAULT if forwarded_allow_ips is None else forwarded_allow_ips
    try:
        if "*" not in value:
            return TrustedProxies.parse(value)
    except ValueError:
        pass
    return TrustedProxies.parse("0.0.0.0/0,::/0")


def client_key(seen: str | None, forwarded_for: Iterable[str], trusted: TrustedProxies,
               server: TrustedProxies) -> str:
    """The key a client is limited under, from the address the server reports (``seen``: the
    peer, or the hop the server took from the header when the peer is in ``server``'s list)."""
    seen = _address(seen) if seen else LOCAL
    chain = hops(forwarded_for)
    if not chain or server.pick(chain) != seen:
        return f"ip:{trusted.client(seen, chain)}"  # the server did not rewrite: ``seen`` is the peer
    if server.within(trusted):
        # The peer was one of the server's proxies, all trusted by us too (or ``seen`` is the
        # peer and names itself last): our rule over the whole chain gives the same answer.
        return f"ip:{trusted.pick(chain)}"
    log.warning("X-Forwarded-For came through a peer Streamlit's server trusts (FORWARDED_ALLOW_IPS) "
                "but TUTOR_TRUSTED_PROXIES does not: counted as one client %r. Start the app with "
                "FORWARDED_ALLOW_IPS set to the same list as TUTOR_TRUSTED_PROXIES (docs/deployment.md).",
                UNVERIFIED)
    return f"ip:{UNVERIFIED}"
