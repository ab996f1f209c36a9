"""Melodies as music: one MIDI pitch per time step -> held notes, MIDI and MusicXML (music21)."""

import os

STEP = 0.25  # One melody token, in quarter notes: a sixteenth note (as in `seqzoo_chorales`).


def melody_runs(pitches):
    """Merges repeated pitches into held notes: `[(pitch, steps), ...]`, 0 a rest."""
    runs = []
    for pitch in pitches:
        pitch = int(pitch)
        if runs and runs[-1][0] == pitch:
            runs[-1][1] += 1
        else:
            runs.append([pitch, 1])
    return [tuple(run) for run in runs]


def _part(pitches, step):
    from music21 import note
    from music21 import stream

    part = stream.Part()
    for pitch, steps in melody_runs(pitches):
        length = steps * step
        part.append(note.Rest(quarterLength=length) if pitch == 0 else note.Note(midi=pitch, quarterLength=length))
    if not part.notesAndRests:
        part.append(note.Rest(quarterLength=4.0))
    return part


def _score(voices, step, title):
    from music21 import metadata
    from music21 import stream

    score = stream.Score([_part(pitches, step) for pitches in voices])
    if title:
        score.metadata = metadata.Metadata(title=title)
    return score


def melody_stream(pitches, step=STEP, title=None):
    """A music21 `Score` of one melody: MIDI pitches per step (0 a rest), repeats held.

    Args:
        pitches: one MIDI pitch per time step (a sixteenth note by default).
        step: one step's length in quarter notes.
        title: optional title for the score's metadata.
    """
    return _score([pitches], step, title)


def _write(score, path):
    stem = os.path.splitext(os.fspath(path))[0]
    if score.metadata is None or not score.metadata.title:
        from music21 import metadata

        score.metadata = metadata.Metadata(title=os.path.basename(stem))
    midi, musicxml = f"{stem}.mid", f"{stem}.musicxml"
    score.write("midi", fp=midi)
    score.write("musicxml", fp=musicxml)
    return [midi, musicxml]


def write_melody(pitches, path, step=STEP):
    """Writes a melody as MIDI and MusicXML beside each other; returns both paths.

    Args:
        pitches: one MIDI pitch per step, 0 for a rest (repeated pitches are one held note).
        path: the file name; its extension is replaced by `.mid` and `.musicxml`.
    """
    return _write(melody_stream(pitches, step), path)


def write_voices(voices, path, step=STEP):
    """Writes several aligned voices (e.g. a soprano and its bass) as one score, in MIDI and MusicXML.

    Args:
        voices: one list of MIDI pitches per voice, top first, one pitch per step (0 a rest).
        path: the file name; its extension is replaced by `.mid` and `.musicxml`.

    Returns:
        The two paths written.

    Example:

    >>> write_voices([[67, 67, 69], [43, 43, 42]], "harmonized.mid")
    ['harmonized.mid', 'harmonized.musicxml']
    """
    return _write(_score(voices, step, None), path)


def sample_part(part, steps, step=STEP):
    """A music21 part's MIDI pitch and onset flag at each of `steps` grid steps (0 a rest).

    A chord counts as its highest pitch. A note tied over from the note
    before sounds on without a new onset, as after music21's `stripTies`,
    which would deep-copy the part to merge them.

    Returns:
        `(pitches, onsets)`: an int32 and a bool NumPy array of length `steps`.
    """
    import numpy as np

    pitches = np.zeros(steps, np.int32)
    onsets = np.zeros(steps, bool)
    previous = None
    for note in part.flatten().notes:
        start = round(note.offset / step)
        end = round((note.offset + note.quarterLength) / step)
        if end > start:
            pitches[start:end] = max(pitch.midi for pitch in note.pitches)
            if not _tied_over(previous, note):
                onsets[start] = True
        previous = note
    return pitches, onsets


def _tied_over(previous, note):
    """Whether `note` continues `previous`: tied from it, at the same pitches (a stray tie is an onset)."""
    return (
        previous is not None
        and _tie(previous) in ("start", "continue")
        and _tie(note) in ("stop", "continue")
        and [pitch.nameWithOctave for pitch in previous.pitches] == [pitch.nameWithOctave for pitch in note.pitches]
    )


def _tie(note):
    return None if note.tie is None else note.tie.type


def read_melody(path, step=STEP):
    """A melody file (MIDI or MusicXML) as one MIDI pitch per step: its top part, sampled as `seqzoo_chorales` is.

    The melody ends with its last note (rests that fill the last bar are dropped).

    Args:
        path: a `.mid`, `.midi`, `.musicxml`, `.xml` or `.mxl` file.
        step: one step's length in quarter notes (a sixteenth note).

    Returns:
        A list of int MIDI pitches, 0 for a rest.
    """
    from music21 import converter

    score = converter.parse(os.fspath(path))
    part = (list(score.parts) or [score])[0]
    end = max((note.offset + note.quarterLength for note in part.flatten().notes), default=0.0)
    pitches, _ = sample_part(part, round(end / step), step)  # Up to the last note: a MIDI file fills its bar.
    return [int(pitch) for pitch in pitches]
