"""What the fuzz tests share: a reproducible hypothesis profile and the one property they check.

The profile has no example database and derandomised generation, so every run (and
CI) tries the same examples; a per-example deadline turns a hang into a failure.
"""

from typing import Callable, Optional, Type, TypeVar

from hypothesis import HealthCheck, settings

PROFILE = "mrs-fuzz"
settings.register_profile(
    PROFILE,
    database=None,
    derandomize=True,
    deadline=2000,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
FUZZ = settings.get_profile(PROFILE)

T = TypeVar("T")


def result_or_refusal(call: Callable[[], T], refusal: Type[Exception], names: str) -> Optional[T]:
    """call()'s result, or None when it raises `refusal` with a message that names `names`.

    Any other exception propagates, failing the test: a reader may only refuse input
    with the project's own clear error, and that error must say which file or layer.
    """
    try:
        return call()
    except refusal as error:
        message = str(error)
        assert names in message, f"the message does not name {names!r}: {message}"
        assert message.rstrip().endswith("."), f"the message is not a sentence: {message}"
        return None
