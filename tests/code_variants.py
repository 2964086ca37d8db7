"""A broken variant of a code solution, shared by the real-data test and bench/code_exec_vs_human_eval.py."""

# appended to a canonical solution: the same function, with a different return value
BREAK = '''

def _changed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, (list, tuple)):
        return type(value)([*value, None])
    return ["changed", value]


_original = {name}


def {name}(*args, **kwargs):
    return _changed(_original(*args, **kwargs))
'''


def broken(solution: str, entry_point: str) -> str:
    return solution + BREAK.format(name=entry_point)
