"""User-facing errors: each one becomes a single line on stderr and a non-zero exit."""


class HyokaError(Exception):
    """An error caused by input the user can fix (task file, dataset, model spec, config).

    The message must name what is wrong (file, field) and how to fix it, in one line.
    """

    exit_code = 2


class TaskConfigError(HyokaError):
    pass


class DatasetError(HyokaError):
    pass


class ModelSpecError(HyokaError):
    pass


class BackendUnavailable(HyokaError):
    """A backend's optional dependency is not installed."""


class GenerationParamsError(HyokaError, ValueError):
    """Generation settings out of range (`--gen max_tokens=-5`, a task's `generation:`).

    A ValueError too, so code that builds GenerationParams from untrusted numbers can catch
    it as one; the CLI prints it as one line like every HyokaError.
    """
