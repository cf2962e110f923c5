"""Which pickle globals are known safe, which run code, and which are unknown.

Kept apart from the opcode walker so the lists can be read and reviewed on their own.
The safe list is what a PyTorch, NumPy or plain-container state dict needs (the same
ground PyTorch's `weights_only` loader covers); the dangerous list names callables
that run commands, evaluate code, import modules, open files or sockets, or load a
further unrestricted pickle. Everything else is `unknown`: not proof of harm, but a
loader would import and call it, so a person should look.
"""

import enum


class GlobalVerdict(enum.StrEnum):
    SAFE = "safe"
    UNKNOWN = "unknown"
    DANGEROUS = "dangerous"


#: Modules any name of which can run code, spawn processes, touch files or the network,
#: or deserialise further untrusted data. Submodules are included (`importlib.util`).
DANGEROUS_MODULES: frozenset[str] = frozenset(
    {
        "os",
        "posix",
        "nt",
        "subprocess",
        "sys",
        "shutil",
        "socket",
        "pty",
        "runpy",
        "importlib",
        "imp",
        "code",
        "codeop",
        "ctypes",
        "_ctypes",
        "pickle",
        "_pickle",
        "cPickle",
        "dill",
        "cloudpickle",
        "marshal",
        "types",
        "webbrowser",
        "commands",
        "multiprocessing",
        "asyncio",
        "signal",
        "_thread",
        "thread",
        "threading",
        "platform",
        "pydoc",
        "pdb",
        "bdb",
        "timeit",
        "trace",
        "profile",
        "cProfile",
        "pip",
        "setuptools",
        "distutils",
        "requests",
        "urllib",
        "urllib2",
        "urllib3",
        "http",
        "httplib",
        "ftplib",
        "smtplib",
        "telnetlib",
        "xmlrpc",
        "tempfile",
        "glob",
        "zipimport",
        "joblib",
    }
)

_BUILTIN_MODULES = ("builtins", "__builtin__", "__builtins__")

#: Builtins that evaluate code, import, reach attributes by name or open files.
DANGEROUS_BUILTINS: frozenset[str] = frozenset(
    {
        "eval",
        "exec",
        "execfile",
        "compile",
        "open",
        "file",
        "__import__",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "vars",
        "input",
        "raw_input",
        "breakpoint",
        "apply",
        "reload",
        "help",
        "exit",
        "quit",
    }
)

#: Single callables outside the modules above that run code or load pickles.
DANGEROUS_NAMES: frozenset[tuple[str, str]] = frozenset(
    {
        ("operator", "attrgetter"),  # reaches any attribute: gadget chains
        ("operator", "methodcaller"),  # calls any method by name
        ("_operator", "attrgetter"),
        ("_operator", "methodcaller"),
        ("torch", "load"),
        ("torch.serialization", "load"),
        ("torch.storage", "_load_from_bytes"),  # unrestricted torch.load of bytes
        ("torch.jit", "load"),
        ("numpy", "load"),
        ("numpy.testing._private.utils", "runstring"),  # exec() of a string
        ("pandas", "read_pickle"),
        ("pandas.io.pickle", "read_pickle"),
    }
)

#: Builtins that only build plain values.
SAFE_BUILTINS: frozenset[str] = frozenset(
    {
        "set",
        "frozenset",
        "bytearray",
        "bytes",
        "slice",
        "complex",
        "range",
        "dict",
        "list",
        "tuple",
        "str",
        "int",
        "float",
        "bool",
    }
)

_TORCH_STORAGES = (
    "UntypedStorage TypedStorage FloatStorage HalfStorage BFloat16Storage "
    "DoubleStorage LongStorage IntStorage ShortStorage CharStorage ByteStorage "
    "BoolStorage ComplexFloatStorage ComplexDoubleStorage QInt8Storage QUInt8Storage "
    "QInt32Storage QUInt4x2Storage QUInt2x4Storage"
).split()
_TORCH_DTYPES_AND_LAYOUTS = (
    "float32 float16 bfloat16 float64 float8_e4m3fn float8_e5m2 int64 int32 int16 "
    "int8 uint8 bool complex64 complex128 strided sparse_coo sparse_csr "
    "per_tensor_affine per_channel_affine Size device dtype"
).split()

#: Exact (module, name) pairs a tensor or array state dict needs.
SAFE_NAMES: frozenset[tuple[str, str]] = frozenset(
    {("collections", "OrderedDict"), ("_codecs", "encode")}
    | {("torch", name) for name in _TORCH_STORAGES + _TORCH_DTYPES_AND_LAYOUTS}
    | {("torch.storage", name) for name in ("UntypedStorage", "TypedStorage")}
    | {
        ("torch._utils", name)
        for name in (
            "_rebuild_tensor",
            "_rebuild_tensor_v2",
            "_rebuild_tensor_v3",
            "_rebuild_parameter",
            "_rebuild_parameter_with_state",
            "_rebuild_qtensor",
            "_rebuild_sparse_tensor",
            "_rebuild_meta_tensor_no_storage",
            "_rebuild_nested_tensor",
            "_rebuild_wrapper_subclass",
            "_rebuild_device_tensor_from_numpy",
        )
    }
    | {
        ("torch._tensor", "_rebuild_from_type_v2"),
        ("torch.serialization", "_get_layout"),
    }
    | {
        (module, name)
        for module in ("numpy.core.multiarray", "numpy._core.multiarray")
        for name in ("_reconstruct", "scalar")
    }
    | {("numpy", "ndarray"), ("numpy", "dtype")}
    # argparse.Namespace only sets attributes; training scripts save their arguments.
    | {("argparse", "Namespace")}
)


def classify(module: str, name: str) -> GlobalVerdict:
    """The verdict on importing `name` from `module` as an unpickler would."""
    top = module.split(".", 1)[0]
    if module in _BUILTIN_MODULES:
        if name in DANGEROUS_BUILTINS:
            return GlobalVerdict.DANGEROUS
        if name in SAFE_BUILTINS:
            return GlobalVerdict.SAFE
        return GlobalVerdict.UNKNOWN
    if top in DANGEROUS_MODULES or (module, name) in DANGEROUS_NAMES:
        return GlobalVerdict.DANGEROUS
    parts = name.split(".")
    if any(_is_dunder(part) or part in DANGEROUS_BUILTINS for part in parts):
        # Introspection (`__globals__`, `__builtins__`, `__subclasses__`) reaches
        # anything from any module.
        return GlobalVerdict.DANGEROUS
    if len(parts) > 1:
        # Protocol 4 resolves dotted names attribute by attribute: no dotted name is
        # on the safe list.
        return GlobalVerdict.UNKNOWN
    if (module, name) in SAFE_NAMES or (
        module == "numpy.dtypes" and name.endswith("DType")
    ):
        return GlobalVerdict.SAFE
    return GlobalVerdict.UNKNOWN


def _is_dunder(part: str) -> bool:
    return len(part) > 4 and part.startswith("__") and part.endswith("__")


def worst(verdicts: list[GlobalVerdict]) -> GlobalVerdict:
    """The most serious verdict of several (SAFE when there are none)."""
    if GlobalVerdict.DANGEROUS in verdicts:
        return GlobalVerdict.DANGEROUS
    if GlobalVerdict.UNKNOWN in verdicts:
        return GlobalVerdict.UNKNOWN
    return GlobalVerdict.SAFE
