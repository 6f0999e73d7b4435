"""Shop policy as data: the shop's own clocks and thresholds, typed, per shop, with effective
times and history (:mod:`.keys` defines them, :mod:`.store` keeps and applies them, :mod:`.explain`
names the policy behind a deadline, :mod:`.cli` is ``hub policy``)."""

from .keys import BY_KEY, KEYS, PolicyKey, PolicyValueError, parse_value

__all__ = ["BY_KEY", "KEYS", "PolicyKey", "PolicyValueError", "parse_value"]
