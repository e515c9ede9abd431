"""The data layer: the state behind the API, the indexes that answer lists,
and how the state is built, loaded, saved and generated. No HTTP here: the
store refuses with domain errors, which the API layer turns into answers."""
