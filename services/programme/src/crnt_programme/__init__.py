"""The programme service: the yearly work programme, its validation and its progress.

The yearly work programme of the network: actions on five axes (communication, ateliers,
évènements, formation, matériel partagé), led and run by member centres; draft → submitted →
validated by the steering committee (COPIL), then amending → submitted → validated again, each
validation an immutable version; actions proposed → planned → in_progress → done, or cancelled;
their état d'avancement.
"""
