"""Presets: trained run folders, shipped with seqzoo or from an archive, wherever a run folder is accepted.

`preset:NAME` names a shipped preset (`seqzoo presets` lists them),
`preset:PATH` a run folder or an archive of one on this machine. Evaluating,
generating, exporting and fine-tuning (`train(..., from_run="preset:names")`)
read them as they read any finished run folder.
"""

from seqzoo._lazy import lazy_exports

__all__ = ["PREFIX", "Preset", "PresetError", "get_preset", "list_presets", "open_run"]
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "PREFIX": ("seqzoo.presets.sources", "PREFIX"),
        "Preset": ("seqzoo.presets.catalog", "Preset"),
        "PresetError": ("seqzoo.presets.sources", "PresetError"),
        "get_preset": ("seqzoo.presets.catalog", "get_preset"),
        "list_presets": ("seqzoo.presets.catalog", "list_presets"),
        "open_run": ("seqzoo.presets.runs", "open_run"),
    },
)
