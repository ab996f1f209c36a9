"""What a test asks of a picture a tutorial or the gallery draws."""

import os

import numpy as np


def assert_image(path, min_size=(200, 200)):
    """The file is a PNG that matplotlib reads back, of a plausible size, and not blank."""
    import matplotlib.image

    assert os.path.isfile(path), path
    image = matplotlib.image.imread(path)
    assert image.shape[0] >= min_size[1] and image.shape[1] >= min_size[0], image.shape
    assert np.asarray(image[..., :3]).std() > 0.01, f"{path} looks blank"
