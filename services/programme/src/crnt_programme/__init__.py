"""The programme service: the yearly work programme, its validation and its progress."""
