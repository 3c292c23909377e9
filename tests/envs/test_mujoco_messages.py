"""MuJoCo's C warnings reach Python's warnings while sub-environments are built, once, not per model."""

import warnings

import pytest

from metarl.envs.mujoco_messages import MujocoWarning, mujoco_warnings_as_python

mujoco = pytest.importorskip("mujoco")
pytest.importorskip("gymnasium.envs.mujoco")

from metarl.envs import DirectionTasks  # noqa: E402
from metarl.envs.registry import make_env  # noqa: E402


def test_a_cheetah_batch_warns_through_python_and_prints_nothing(capfd):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env = make_env("halfcheetah-dir", tasks=DirectionTasks(direction=[1.0, -1.0, 1.0]))
        env.close()
    printed = capfd.readouterr().err
    assert "settotalmass" not in printed
    messages = [str(w.message) for w in caught if issubclass(w.category, MujocoWarning)]
    assert len(messages) == 3 and all("settotalmass" in m for m in messages)  # one per model, shown once by default
    assert mujoco.get_mju_user_warning() is None  # MuJoCo's own handler is back


def test_an_error_filter_does_not_raise_through_mujoco(capfd):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with mujoco_warnings_as_python():
            mujoco.MjModel.from_xml_string('<mujoco><compiler settotalmass="1"/><worldbody><body><geom size="1"/>'
                                           '<joint type="free"/></body></worldbody></mujoco>')
    assert "settotalmass" in capfd.readouterr().err


def test_a_users_own_handler_is_left_alone():
    seen: list[str] = []
    mujoco.set_mju_user_warning(seen.append)
    try:
        with mujoco_warnings_as_python():
            assert mujoco.get_mju_user_warning() is not None
            mujoco.MjModel.from_xml_string('<mujoco><compiler settotalmass="1"/><worldbody><body><geom size="1"/>'
                                           '<joint type="free"/></body></worldbody></mujoco>')
    finally:
        mujoco.set_mju_user_warning(None)
    assert len(seen) == 1 and "settotalmass" in seen[0]
