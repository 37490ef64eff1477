import pytest

from model_core.errors import Canceled
from model_core.hooks import Hooks


def test_sub_hooks_map_progress_into_the_parent_range():
    seen = []
    hooks = Hooks(progress=seen.append)
    sub = hooks.sub(0.5, 0.75)
    sub.progress(0.0)
    sub.progress(0.5)
    sub.progress(2.0)
    assert seen == [0.5, 0.625, 0.75]


def test_check_cancel_raises_only_once_canceled():
    state = {"canceled": False}
    hooks = Hooks(is_canceled=lambda: state["canceled"])
    hooks.check_cancel()
    state["canceled"] = True
    with pytest.raises(Canceled):
        hooks.sub(0.0, 0.5).check_cancel()
