"""Token buckets: a burst, then the sustained rate, per key and rate class."""

from gateway.policy import RateClass
from gateway.ratelimit import RateLimiter, retry_after_header

STANDARD = RateClass("standard", per_second=2, burst=3)
BULK = RateClass("bulk", per_second=1, burst=1)


def test_a_burst_then_the_sustained_rate():
    limiter = RateLimiter()
    assert [limiter.take("cs-120801", STANDARD, now=0.0) for _ in range(3)] == [0, 0, 0]
    wait = limiter.take("cs-120801", STANDARD, now=0.0)
    assert wait == 0.5 and retry_after_header(wait) == "1"
    assert limiter.take("cs-120801", STANDARD, now=0.5) == 0, "one token refilled after 0.5 s"
    assert limiter.take("cs-120801", STANDARD, now=0.5) > 0


def test_keys_and_classes_have_their_own_buckets():
    limiter = RateLimiter()
    for _ in range(3):
        limiter.take("cs-120801", STANDARD, now=0.0)
    assert limiter.take("cs-120802", STANDARD, now=0.0) == 0
    assert limiter.take("cs-120801", BULK, now=0.0) == 0
    assert limiter.take("cs-120801", BULK, now=0.0) == 1.0
