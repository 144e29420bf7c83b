/* The two tables the safety checker judges imports by: the allow-list and the known-dangerous
 * list, and the classification of one (module, name) pair.
 *
 * The allow-list is the union of AUTOMATIC1111's modules/safe.py (RestrictedUnpickler
 * find_class) and torch's weights_only unpickler (torch/_weights_only_unpickler.py): tensor
 * rebuild functions, storage and tensor classes, dtypes, layouts, memory formats, quantization
 * schemes, OrderedDict/Counter, numpy array and scalar reconstruction, _codecs.encode (how
 * protocol 2 spells bytes), builtins set/bytearray/complex, Lightning's ModelCheckpoint. Pairs
 * are exact: a dotted name (an attribute path, protocol 4) is allowed only when listed whole.
 *
 * The dangerous list (security.md sections 1.3, 2.1-2.3: picklescan's and modelscan's deny
 * lists, fickling's unsafe modules, the bypass CVEs) has whole modules (a submodule inherits:
 * "asyncio.unix_events" is "asyncio", CVE-2025-10157) and single names. Besides the tables: a
 * dunder component in the name ("__builtins__", "__globals__") reaches interpreter internals,
 * and a dotted name through a dangerous module or builtin ("os.system" under pathlib) is an
 * attribute-path bypass; both are dangerous.
 * Not for deciding verdicts (check.c) nor for reading pickles (lib/format/pickle.c). */
#include <stdlib.h>
#include <string.h>

#include "ckptdb/safety.h"

struct pair {
    const char *module, *name;
};

static const struct pair allowed[] = {
    {"collections", "OrderedDict"},
    {"collections", "Counter"},
    {"torch._utils", "_rebuild_tensor"},
    {"torch._utils", "_rebuild_tensor_v2"},
    {"torch._utils", "_rebuild_tensor_v3"},
    {"torch._utils", "_rebuild_parameter"},
    {"torch._utils", "_rebuild_parameter_with_state"},
    {"torch._utils", "_rebuild_device_tensor_from_numpy"},
    {"torch._utils", "_rebuild_device_tensor_from_cpu_tensor"},
    {"torch._utils", "_rebuild_sparse_tensor"},
    {"torch._utils", "_rebuild_meta_tensor_no_storage"},
    {"torch._utils", "_rebuild_nested_tensor"},
    {"torch._utils", "_rebuild_wrapper_subclass"},
    {"torch._utils", "_rebuild_qtensor"},
    {"torch._utils", "_rebuild_xla_tensor"},
    {"torch._utils", "_rebuild_mtia_tensor"},
    {"torch._tensor", "_rebuild_from_type_v2"},
    {"torch.nn.parameter", "Parameter"},
    {"torch.nn.modules.container", "ParameterDict"},
    {"torch.serialization", "_get_layout"},
    {"torch.storage", "TypedStorage"},
    {"torch.storage", "UntypedStorage"},
    {"torch", "Size"},
    {"torch", "Tensor"},
    {"torch", "device"},
    {"torch", "UntypedStorage"},
    {"torch", "TypedStorage"},
    /* storage classes */
    {"torch", "LongStorage"},
    {"torch", "FloatStorage"},
    {"torch", "HalfStorage"},
    {"torch", "QUInt2x4Storage"},
    {"torch", "QUInt4x2Storage"},
    {"torch", "QInt32Storage"},
    {"torch", "QInt8Storage"},
    {"torch", "QUInt8Storage"},
    {"torch", "ComplexFloatStorage"},
    {"torch", "ComplexDoubleStorage"},
    {"torch", "DoubleStorage"},
    {"torch", "BFloat16Storage"},
    {"torch", "BoolStorage"},
    {"torch", "CharStorage"},
    {"torch", "ShortStorage"},
    {"torch", "IntStorage"},
    {"torch", "ByteStorage"},
    /* tensor classes */
    {"torch", "FloatTensor"},
    {"torch", "DoubleTensor"},
    {"torch", "HalfTensor"},
    {"torch", "BFloat16Tensor"},
    {"torch", "LongTensor"},
    {"torch", "IntTensor"},
    {"torch", "ShortTensor"},
    {"torch", "CharTensor"},
    {"torch", "ByteTensor"},
    {"torch", "BoolTensor"},
    /* dtypes */
    {"torch", "float32"},
    {"torch", "float"},
    {"torch", "float64"},
    {"torch", "double"},
    {"torch", "float16"},
    {"torch", "half"},
    {"torch", "bfloat16"},
    {"torch", "complex32"},
    {"torch", "complex64"},
    {"torch", "complex128"},
    {"torch", "cfloat"},
    {"torch", "cdouble"},
    {"torch", "uint8"},
    {"torch", "uint16"},
    {"torch", "uint32"},
    {"torch", "uint64"},
    {"torch", "int8"},
    {"torch", "int16"},
    {"torch", "short"},
    {"torch", "int32"},
    {"torch", "int"},
    {"torch", "int64"},
    {"torch", "long"},
    {"torch", "bool"},
    {"torch", "quint8"},
    {"torch", "qint8"},
    {"torch", "qint32"},
    {"torch", "quint4x2"},
    {"torch", "quint2x4"},
    {"torch", "float8_e4m3fn"},
    {"torch", "float8_e5m2"},
    {"torch", "float8_e4m3fnuz"},
    {"torch", "float8_e5m2fnuz"},
    /* layouts, memory formats, quantization schemes */
    {"torch", "strided"},
    {"torch", "sparse_coo"},
    {"torch", "sparse_csr"},
    {"torch", "sparse_csc"},
    {"torch", "sparse_bsr"},
    {"torch", "sparse_bsc"},
    {"torch", "_mkldnn"},
    {"torch", "contiguous_format"},
    {"torch", "channels_last"},
    {"torch", "channels_last_3d"},
    {"torch", "preserve_format"},
    {"torch", "per_tensor_affine"},
    {"torch", "per_channel_affine"},
    {"torch", "per_tensor_symmetric"},
    {"torch", "per_channel_symmetric"},
    {"torch", "per_channel_affine_float_qparams"},
    /* numpy arrays and scalars */
    {"numpy", "dtype"},
    {"numpy", "ndarray"},
    {"numpy.core.multiarray", "_reconstruct"},
    {"numpy.core.multiarray", "scalar"},
    {"numpy._core.multiarray", "_reconstruct"},
    {"numpy._core.multiarray", "scalar"},
    /* protocol 2 bytes, small builtins */
    {"_codecs", "encode"},
    {"builtins", "set"},
    {"builtins", "bytearray"},
    {"builtins", "complex"},
    /* Lightning (A1111's list) */
    {"pytorch_lightning.callbacks", "model_checkpoint"},
    {"pytorch_lightning.callbacks.model_checkpoint", "ModelCheckpoint"},
};

/* Whole modules: the module itself and every submodule. */
static const char *const bad_modules[] = {
    "os",
    "posix",
    "nt",
    "sys",
    "subprocess",
    "_posixsubprocess",
    "socket",
    "_socket",
    "ssl",
    "shutil",
    "runpy",
    "pickle",
    "pickletools",
    "shelve",
    "marshal",
    "pip",
    "pty",
    "pdb",
    "bdb",
    "pydoc",
    "profile",
    "cProfile",
    "timeit",
    "trace",
    "venv",
    "ensurepip",
    "webbrowser",
    "ctypes",
    "_ctypes",
    "asyncio",
    "aiohttp",
    "http",
    "urllib",
    "urllib3",
    "requests",
    "httpx",
    "ftplib",
    "smtplib",
    "imaplib",
    "poplib",
    "nntplib",
    "telnetlib",
    "xmlrpc",
    "socketserver",
    "commands",
    "uuid",
    "test",
    "importlib",
    "imp",
    "zipimport",
    "pkgutil",
    "code",
    "codeop",
    "doctest",
    "idlelib",
    "lib2to3",
    "distutils",
    "setuptools",
    "_osx_support",
    "_aix_support",
    "_pyrepl",
    "multiprocessing",
    "_multiprocessing",
    "concurrent",
    "threading",
    "_thread",
    "signal",
    "tempfile",
    "glob",
    "fileinput",
    "types",
    "inspect",
    "gc",
    "weakref",
    "ast",
    "dis",
    "tarfile",
    "zipfile",
    "sqlite3",
    "dbm",
    "mailbox",
    "cloudpickle",
    "dill",
    "joblib",
    "numpy.f2py",
    "numpy.testing",
    "numpy.distutils",
    "numpy.ctypeslib",
    "torch._inductor",
    "torch._dynamo",
    "torch.jit",
    "torch.hub",
    "torch.package",
    "torch.fx.experimental.symbolic_shapes",
    "torch.utils._config_module",
    "torch.utils.bottleneck",
    "torch.utils.collect_env",
    "torch.utils.data.datapipes",
    "torch.utils.cpp_extension",
    "torch._ops",
    "mlflow",
    "pandas.io",
    "fickling",
    "picklescan",
    "modelscan",
};

/* Single names (dotted names: the first component is matched, "Bdb.run" by "Bdb"). */
static const struct pair bad_names[] = {
    {"builtins", "eval"},
    {"builtins", "exec"},
    {"builtins", "execfile"},
    {"builtins", "compile"},
    {"builtins", "getattr"},
    {"builtins", "setattr"},
    {"builtins", "delattr"},
    {"builtins", "apply"},
    {"builtins", "open"},
    {"builtins", "file"},
    {"builtins", "breakpoint"},
    {"builtins", "__import__"},
    {"builtins", "input"},
    {"builtins", "raw_input"},
    {"builtins", "globals"},
    {"builtins", "locals"},
    {"builtins", "vars"},
    {"builtins", "reload"},
    {"builtins", "help"},
    {"builtins", "exit"},
    {"builtins", "quit"},
    {"operator", "attrgetter"},
    {"operator", "itemgetter"},
    {"operator", "methodcaller"},
    {"functools", "partial"},
    {"functools", "reduce"},
    {"logging", "FileHandler"},
    {"logging", "handlers"},
    {"logging", "config"},
    {"io", "open"},
    {"io", "FileIO"},
    {"io", "open_code"},
    {"codecs", "open"},
    {"torch", "load"},
    {"torch", "save"},
    {"torch", "compile"},
    {"torch", "hub"},
    {"torch", "jit"},
    {"torch.serialization", "load"},
    {"torch.serialization", "_load"},
    {"torch.storage", "_load_from_bytes"},
    {"numpy", "load"},
    {"numpy", "loadtxt"},
    {"numpy", "fromfile"},
    {"numpy", "save"},
    {"numpy.lib.npyio", "load"},
    {"pandas", "read_csv"},
    {"pandas", "read_pickle"},
};

struct alias {
    const char *from, *to;
};

static const struct alias aliases[] = {
    {"__builtin__", "builtins"},
    {"exceptions", "builtins"},
    {"copy_reg", "copyreg"},
    {"cPickle", "pickle"},
    {"_pickle", "pickle"},
    {"httplib", "http.client"},
    {"urllib2", "urllib.request"},
    {"cStringIO", "io"},
    {"StringIO", "io"},
    {"_io", "io"},
    {"_operator", "operator"},
    {"_functools", "functools"},
    {"_codecs", "_codecs"},
    {"Queue", "queue"},
    {"thread", "_thread"},
    {"SocketServer", "socketserver"},
};

const char *ckpt_safety_module_alias(const char *module)
{
    for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
        if (strcmp(module, aliases[i].from) == 0)
            return aliases[i].to;
    return module;
}

/* module is m or a submodule of m */
static int in_module(const char *module, const char *m)
{
    size_t n = strlen(m);
    return strncmp(module, m, n) == 0 && (module[n] == '\0' || module[n] == '.');
}

static int bad_module(const char *module)
{
    for (size_t i = 0; i < sizeof bad_modules / sizeof *bad_modules; i++)
        if (in_module(module, bad_modules[i]))
            return 1;
    return 0;
}

/* The first dotted component of name equals what. */
static int first_is(const char *name, const char *what)
{
    size_t n = strlen(what);
    return strncmp(name, what, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

static int bad_name(const char *module, const char *name)
{
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++)
        if (strcmp(module, bad_names[i].module) == 0 && first_is(name, bad_names[i].name))
            return 1;
    return 0;
}

/* One component of a dotted attribute path: a dunder, a dangerous module or builtin. */
static int bad_component(const char *c, size_t n)
{
    if (n >= 4 && c[0] == '_' && c[1] == '_' && c[n - 1] == '_' && c[n - 2] == '_')
        return 1;
    char buf[64];
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, c, n);
    buf[n] = '\0';
    if (bad_module(ckpt_safety_module_alias(buf)) || bad_name("builtins", buf))
        return 1;
    static const char *const calls[] = {"system", "popen", "spawn", "execv", "execve", "fork",
                                        "eval",   "exec",  "loads", "load",  "run",    "call"};
    for (size_t i = 0; i < sizeof calls / sizeof *calls; i++)
        if (strcmp(buf, calls[i]) == 0)
            return 1;
    return 0;
}

enum ckpt_global_class ckpt_safety_classify(const char *module, const char *name)
{
    if (!module || !name)
        return CKPT_GLOBAL_DANGEROUS;
    const char *m = ckpt_safety_module_alias(module);
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
        if (strcmp(m, allowed[i].module) == 0 && strcmp(name, allowed[i].name) == 0)
            return CKPT_GLOBAL_ALLOWED;
    if (bad_module(m) || bad_name(m, name))
        return CKPT_GLOBAL_DANGEROUS;
    /* the module path itself through interpreter internals ("numpy.__builtins__") */
    for (const char *p = m; *p;) {
        size_t n = strcspn(p, ".");
        if (n >= 4 && p[0] == '_' && p[1] == '_' && p[n - 1] == '_' && p[n - 2] == '_')
            return CKPT_GLOBAL_DANGEROUS;
        p += n;
        if (*p == '.')
            p++;
    }
    /* every component of the name: a plain name is judged as a component too (a dunder such
       as __builtins__ or __globals__), a dotted one is an attribute path */
    int dotted = strchr(name, '.') != NULL;
    for (const char *p = name; *p || p == name;) {
        size_t n = strcspn(p, ".");
        if (n >= 4 && p[0] == '_' && p[1] == '_' && p[n - 1] == '_' && p[n - 2] == '_')
            return CKPT_GLOBAL_DANGEROUS;
        if (dotted && bad_component(p, n))
            return CKPT_GLOBAL_DANGEROUS;
        p += n;
        if (*p != '.')
            break;
        p++;
    }
    return CKPT_GLOBAL_UNKNOWN;
}
