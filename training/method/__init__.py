"""The course's method: the one fit, the diagnosis, the noise margin, the stages' plans and the gate."""
