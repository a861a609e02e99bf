"""The pedagogy the tutor runs without a model: intent, learner state, moves, the offline composer
and the checks every reply passes."""
