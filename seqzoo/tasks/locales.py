"""The locales the dates task renders dates in; each is also a context a user may give. Imports no TensorFlow."""

LOCALES = ("en_US", "en_GB", "fr_FR", "de_DE", "es_ES", "it_IT", "pt_BR", "nl_NL")
