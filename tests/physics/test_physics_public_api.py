import engine
import physics


def test_physics_exports_exactly_the_public_api() -> None:
    assert physics.__all__ == [
        "Body", "Contact", "Contacts", "PhysicsBridge", "PhysicsError", "PhysicsSettings",
        "ShapeError", "Wall", "install_physics",
    ]
    assert physics.__all__ == sorted(physics.__all__)
    for name in physics.__all__:
        assert hasattr(physics, name), name


def test_physics_errors_are_tickmind_errors() -> None:
    assert issubclass(physics.PhysicsError, engine.TickmindError)
    assert issubclass(physics.ShapeError, engine.ComponentError)


def test_components_are_hashed_under_package_qualified_names() -> None:
    assert engine.register_component(physics.Body).name == "physics.Body"  # already registered
    assert engine.register_component(physics.Wall).name == "physics.Wall"
