import keras
import pytest


@pytest.fixture(autouse=True)
def _fixed_seed():
    """Every cell test starts from the same global seed."""
    keras.utils.set_random_seed(0)
    yield
