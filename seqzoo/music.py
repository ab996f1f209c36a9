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


def melody_stream(pitches, step=STEP, title=None):
    """A music21 `Score` of one melody: MIDI pitches per step (0 a rest), repeats held.

    Args:
        pitches: one MIDI pitch per time step (a sixteenth note by default).
        step: one step's length in quarter notes.
        title: optional title for the score's metadata.
    """
    from music21 import metadata
    from music21 import note
    from music21 import stream

    part = stream.Part()
    for pitch, steps in melody_runs(pitches):
        length = steps * step
        part.append(note.Rest(quarterLength=length) if pitch == 0 else note.Note(midi=pitch, quarterLength=length))
    if not part.notesAndRests:
        part.append(note.Rest(quarterLength=4.0))
    score = stream.Score([part])
    if title:
        score.metadata = metadata.Metadata(title=title)
    return score


def write_melody(pitches, path, step=STEP):
    """Writes a melody as MIDI and MusicXML beside each other; returns both paths.

    Args:
        pitches: one MIDI pitch per step, 0 for a rest (repeated pitches are one held note).
        path: the file name; its extension is replaced by `.mid` and `.musicxml`.
    """
    stem = os.path.splitext(os.fspath(path))[0]
    score = melody_stream(pitches, step, title=os.path.basename(stem))
    midi, musicxml = f"{stem}.mid", f"{stem}.musicxml"
    score.write("midi", fp=midi)
    score.write("musicxml", fp=musicxml)
    return [midi, musicxml]
