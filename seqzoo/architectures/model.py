"""The functional model seqzoo builds, which remembers its own config."""

import keras


@keras.saving.register_keras_serializable(package="seqzoo")
class SeqzooModel(keras.Model):
    """A functional `keras.Model` that carries the resolved seqzoo config.

    The config travels with the model through `get_config` and a `.keras`
    save, so a model on disk says exactly how it was built.

    Args:
        *args, **kwargs: those of a functional `keras.Model`
            (`inputs`, `outputs`, `name`).
        seqzoo_config: the resolved config, a plain dict.
    """

    def __init__(self, *args, seqzoo_config=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.seqzoo_config = seqzoo_config

    def get_config(self):
        return {**super().get_config(), "seqzoo_config": self.seqzoo_config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        seqzoo_config = config.pop("seqzoo_config", None)
        model = super().from_config(config, custom_objects=custom_objects)
        model.seqzoo_config = seqzoo_config
        return model
