import engine


def test_engine_exports_exactly_the_public_api() -> None:
    assert engine.__all__ == [
        "DEFAULT_STAGES", "Columns", "ComponentDiff", "ComponentError", "DesiredVelocity", "Divergence",
        "DuplicateSystemError", "ForkOrigin", "HashRecord", "Input", "InputError", "JournalCorruptError",
        "JournalError", "JournalHeader", "JournalRecord", "JournalVersionError",
        "OrderingCycleError", "Pacer", "PastTickError", "PendingInput", "Playback", "Position", "Run", "RunDirError", "ScheduleError",
        "TickContext", "TickmindError", "UnhashableComponentError", "UnhashedComponentWarning", "UnknownInputKindError",
        "UnknownStageError", "Velocity", "VerifyReport", "World", "__version__", "canonical_bytes", "component", "factory", "factory_path", "fork_run",
        "keyed_rng", "load_factory", "play_back", "printable", "read_journal", "read_journal_header", "register_component", "replay_world", "resume_run", "same_definition", "start_run",
        "verify",
    ]
    for name in engine.__all__:
        assert hasattr(engine, name), name


def test_every_error_is_a_tickmind_error() -> None:
    errors = [getattr(engine, n) for n in engine.__all__ if n.endswith("Error")]
    assert len(errors) == 14
    assert all(issubclass(e, engine.TickmindError) for e in errors)
