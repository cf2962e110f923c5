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
        # From picklescan's `_unsafe_globals` (see docs/modelfiles.md for the
        # revision read) and the GHSA advisories its tests name. Whole modules here
        # where picklescan lists single gadgets: their other names reach the same
        # code (a shell, exec, a file write, or a further pickle).
        "aiohttp",  # aiohttp.client requests
        "ssl",  # DNS exfiltration through get_server_certificate
        "idlelib",  # pyshell/run `runcode`, autocomplete/calltip `get_entity` (eval)
        "lib2to3",  # pgen2 Grammar.loads (pickle), ParserGenerator.make_label (eval)
        "doctest",  # debug_script execs its argument
        "ensurepip",  # _run_pip runs pip with arguments
        "pkgutil",  # resolve_name imports any module:attribute past the denylist
        "uuid",  # _get_command_stdout and the *_getnode helpers spawn commands
        "imaplib",  # IMAP4_stream runs a shell command
        "venv",  # create runs ensurepip and writes files
        "py_compile",  # compile writes files
        "compileall",
        "test",  # test.support.script_helper spawns interpreters
        "_osx_support",  # _read_output runs commands
        "_aix_support",  # _read_cmd_output runs commands
        "_pyrepl",  # pager helpers run commands
        "site",  # addsitedir/addpackage exec .pth lines
        "numpy.f2py",  # getlincoef and _eval_length eval strings
        "numpy.testing",  # _private.utils.runstring is exec
        "numpy.distutils",
        "torch.utils.bottleneck",  # __main__.run_cprofile/run_autograd_prof exec
        "torch.utils.collect_env",  # run is Popen(shell=True)
        "torch._dynamo",  # guards.GuardBuilder.get evals
        "torch._inductor",  # codecache.compile_file runs a compiler command
        "torch.fx.experimental.symbolic_shapes",  # ShapeEnv.evaluate_guards_expression
        "torch.jit.unsupported_tensor_ops",  # execWrapper is exec
        "torch.utils._config_module",  # ConfigModule.load_config unpickles
        "torch.utils.data.datapipes.utils.decoder",  # basichandlers unpickles
        "torch.hub",  # downloads and runs hubconf.py
        "torch.package",  # PackageImporter runs packaged code
        "torch.distributed.rpc",
        "torch.testing._internal",
    }
)

_BUILTIN_MODULES = ("builtins", "__builtin__", "__builtins__")
# Module names that, met as an attribute inside a dotted name, mean the walk reached
# that module (modules import `os`, `sys` and `subprocess` under those names).
_REACHED_MODULES = frozenset(
    {"os", "posix", "nt", "sys", "subprocess", "builtins", "__builtins__", "pty"}
    | {"shutil", "socket", "runpy", "importlib", "ctypes", "pickle", "marshal"}
)

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
        # picklescan `_unsafe_globals` entries of single names:
        ("operator", "itemgetter"),
        ("_operator", "itemgetter"),
        ("functools", "partial"),  # partial(os.system, ...) hides the call
        ("functools", "reduce"),
        ("io", "FileIO"),  # reads and writes files past the `open` entry
        ("io", "open"),
        ("io", "open_code"),
        ("_io", "FileIO"),
        ("_io", "open"),
        ("_io", "open_code"),
        ("logging", "FileHandler"),  # creates files
        ("logging.handlers", "RotatingFileHandler"),
        ("logging.handlers", "TimedRotatingFileHandler"),
        ("logging.handlers", "WatchedFileHandler"),
        ("logging.handlers", "SocketHandler"),
        ("logging.handlers", "DatagramHandler"),
        ("logging.handlers", "HTTPHandler"),
        ("logging.handlers", "SMTPHandler"),
        ("logging.config", "listen"),
        ("logging.config", "fileConfig"),
        ("logging.config", "dictConfig"),
        ("torch", "compile"),
        ("torch.serialization", "_load"),
        ("torch.hub", "load_state_dict_from_url"),
        ("numpy.lib.npyio", "load"),
        ("numpy.ctypeslib", "load_library"),
        ("zipfile", "ZipFile"),  # writes files
        ("zipfile", "PyZipFile"),
        ("tarfile", "open"),
        ("tarfile", "TarFile"),
        ("resource", "setrlimit"),
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
    """The verdict on importing `name` from `module` as an unpickler would.

    A dotted name (`eval.__call__`) is resolved attribute by attribute from its first
    name, so it gets at least the verdict of that first name; no dotted name is safe.
    """
    parts = name.split(".")
    first = parts[0]
    if module in _BUILTIN_MODULES:
        if first in DANGEROUS_BUILTINS:
            return GlobalVerdict.DANGEROUS
        if _reaches_danger(parts[1:]):
            return GlobalVerdict.DANGEROUS
        if len(parts) == 1 and name in SAFE_BUILTINS:
            return GlobalVerdict.SAFE
        return GlobalVerdict.UNKNOWN
    if _in_dangerous_module(module) or (module, first) in DANGEROUS_NAMES:
        return GlobalVerdict.DANGEROUS
    if any(part in DANGEROUS_BUILTINS for part in parts) or _reaches_danger(parts):
        # Introspection (`__globals__`, `__builtins__`, `__subclasses__`) or a module
        # reached as an attribute (`mypkg.os.system`) gets to anything.
        return GlobalVerdict.DANGEROUS
    if len(parts) > 1:
        # Protocol 4 resolves dotted names attribute by attribute: no dotted name is on
        # the safe list.
        return GlobalVerdict.UNKNOWN
    if (module, name) in SAFE_NAMES or (
        module == "numpy.dtypes" and name.endswith("DType")
    ):
        return GlobalVerdict.SAFE
    return GlobalVerdict.UNKNOWN


def _in_dangerous_module(module: str) -> bool:
    """`module` or a package above it is on `DANGEROUS_MODULES` (`torch._dynamo`
    covers `torch._dynamo.guards`; `io` does not cover `iopath`)."""
    parts = module.split(".")
    return any(
        ".".join(parts[:end]) in DANGEROUS_MODULES for end in range(1, len(parts) + 1)
    )


def _reaches_danger(parts: list[str]) -> bool:
    """Attributes that reach a dunder or, through a module imported under that name,
    a dangerous module (`torch.cuda._memory_viz.subprocess.Popen`)."""
    return any(_is_dunder(part) or part in _REACHED_MODULES for part in parts)


def _is_dunder(part: str) -> bool:
    return len(part) > 4 and part.startswith("__") and part.endswith("__")


def worst(verdicts: list[GlobalVerdict]) -> GlobalVerdict:
    """The most serious verdict of several (SAFE when there are none)."""
    if GlobalVerdict.DANGEROUS in verdicts:
        return GlobalVerdict.DANGEROUS
    if GlobalVerdict.UNKNOWN in verdicts:
        return GlobalVerdict.UNKNOWN
    return GlobalVerdict.SAFE
