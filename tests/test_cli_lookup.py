"""`kalc-formal lookup`: every packet of one lookup, text and JSON, and its errors."""

import json

import jsonschema
import pytest

from kalc_formal.cli import main

POD = "search default.svc.cluster.local svc.cluster.local cluster.local ec2.internal\nnameserver 10.96.0.10\noptions ndots:5\n"

SCHEMA = {
    "type": "object",
    "required": ["queries", "result"],
    "properties": {
        "result": {"enum": ["success", "failure"]},
        "queries": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["qname", "qtype", "nameserver", "attempt", "time", "reply"],
                "properties": {
                    "qname": {"type": "string", "pattern": r"\.$"},
                    "qtype": {"enum": ["A", "AAAA"]},
                    "attempt": {"type": "integer", "minimum": 1},
                    "time": {"type": "number", "minimum": 0},
                    "reply": {"enum": ["ANSWER", "NODATA", "NXDOMAIN", "SERVFAIL", "REFUSED", "TIMEOUT"]},
                },
            },
        },
    },
}


@pytest.fixture
def pod_conf(tmp_path):
    path = tmp_path / "resolv.conf"
    path.write_text(POD)
    return str(path)


def lookup_json(capsys, *args):
    assert main(["lookup", *args, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, SCHEMA)
    return document


def test_text_table_and_result_line(capsys, pod_conf):
    assert main(["lookup", "api.example.com", "--resolv-conf", pod_conf, "--exists", "api.example.com"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith(f"glibc reads {pod_conf}: nameservers 10.96.0.10; search default.svc.cluster.local")
    header = next(line for line in lines if line.lstrip().startswith("#"))
    assert header.split() == ["#", "time", "nameserver", "qname", "qtype", "reply"]
    assert "api.example.com.default.svc.cluster.local.  A        NXDOMAIN" in out
    assert lines[-1] == "result: success after 0 s, 10 packets"


def test_json_every_query_in_order(capsys, pod_conf):
    document = lookup_json(capsys, "api.example.com", "--resolv-conf", pod_conf, "--exists", "api.example.com.")
    assert [(q["qname"], q["qtype"]) for q in document["queries"]] == [
        (name, qtype)
        for name in ("api.example.com.default.svc.cluster.local.", "api.example.com.svc.cluster.local.",
                     "api.example.com.cluster.local.", "api.example.com.ec2.internal.", "api.example.com.")
        for qtype in ("A", "AAAA")
    ]
    assert document["result"] == "success"
    assert document["libc"] == "glibc"
    assert document["candidates"][-1] == {"qname": "api.example.com.", "outcome": "answer", "then": "done"}


def test_failure_still_exits_zero(capsys, pod_conf):
    document = lookup_json(capsys, "nothing.example", "--resolv-conf", pod_conf)
    assert document["result"] == "failure"
    assert len(document["queries"]) == 10


def test_names_match_as_fqdn_case_insensitively(capsys, pod_conf):
    document = lookup_json(capsys, "web", "--resolv-conf", pod_conf, "--exists", "WEB.default.svc.cluster.local")
    assert document["result"] == "success"
    assert len(document["queries"]) == 2


def test_timeout_gives_retransmissions_with_times(capsys, pod_conf):
    document = lookup_json(capsys, "api.example.com", "--resolv-conf", pod_conf,
                           "--timeout", "api.example.com.default.svc.cluster.local", "--exists", "api.example.com")
    sent = [(q["qname"].split(".")[3] if q["qname"].count(".") > 3 else "as-is", q["attempt"], q["time"])
            for q in document["queries"]]
    assert sent == [("default", 1, 0), ("default", 1, 0), ("default", 2, 5), ("default", 2, 5),
                    ("as-is", 1, 10), ("as-is", 1, 10)]
    assert document["duration"] == 10


def test_libc_choice_changes_the_packets(capsys, pod_conf):
    args = ["api.example.com", "--resolv-conf", pod_conf, "--nodata", "api.example.com.default.svc.cluster.local",
            "--exists", "api.example.com"]
    musl = lookup_json(capsys, *args, "--libc", "musl")
    go = lookup_json(capsys, *args, "--libc", "go")
    assert (len(musl["queries"]), musl["result"]) == (2, "failure")
    assert (len(go["queries"]), go["result"]) == (10, "success")


def test_a_only_and_servfail(capsys, pod_conf):
    a_only = lookup_json(capsys, "x.example", "--resolv-conf", pod_conf, "--a-only", "x.example.default.svc.cluster.local")
    assert [q["reply"] for q in a_only["queries"]] == ["ANSWER", "NODATA"]
    servfail = lookup_json(capsys, "x.example.", "--resolv-conf", pod_conf, "--servfail", "x.example")
    assert [q["attempt"] for q in servfail["queries"]] == [1, 1, 2, 2]


def test_bad_resolv_conf_reports_every_error_with_position(capsys, tmp_path):
    path = tmp_path / "resolv.conf"
    path.write_text("nameserver 10.0.0.1\noption ndots:2\nsearch a..b\n")
    assert main(["lookup", "x", "--resolv-conf", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"{path}:2:1: unknown keyword 'option'; resolvers ignore this line "
        "(known: nameserver, search, domain, options, sortlist)",
        "    option ndots:2",
        "    ^",
        f"{path}:3:8: 'a..b' is not a domain name",
        "    search a..b",
        "           ^",
    ]


@pytest.mark.parametrize("kind", ["missing", "directory", "binary", "huge"])
def test_unreadable_file_is_a_clear_error(capsys, tmp_path, kind):
    path = tmp_path / "resolv.conf"
    if kind == "directory":
        path.mkdir()
    elif kind == "binary":
        path.write_bytes(b"nameserver \xff\xfe\n")
    elif kind == "huge":
        path.write_text("#" * (2 << 20))
    assert main(["lookup", "x", "--resolv-conf", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(str(path))
    assert "Traceback" not in err


def test_conflicting_replies_and_bad_names_are_usage_errors(capsys, pod_conf):
    assert main(["lookup", "x", "--resolv-conf", pod_conf, "--exists", "a.example", "--timeout", "a.example."]) == 2
    assert "'a.example.' is given two different replies" in capsys.readouterr().err
    assert main(["lookup", "bad name", "--resolv-conf", pod_conf]) == 2
    assert "not a host name" in capsys.readouterr().err


def test_missing_resolv_conf_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["lookup", "x"])
    assert exit_info.value.code == 2
    assert "--resolv-conf" in capsys.readouterr().err


def test_notes_show_what_the_library_ignored(capsys, tmp_path):
    path = tmp_path / "resolv.conf"
    path.write_text("search " + " ".join(f"{c * 60}.example" for c in "abcd") + "\nnameserver 10.0.0.1\n")
    assert main(["lookup", "web", "--resolv-conf", str(path), "--libc", "musl"]) == 0
    out = capsys.readouterr().out
    assert "note: line 1: 282 characters; musl ignores lines of 255 or more" in out
    assert "result: failure after 0 s, 2 packets" in out


def test_family_inet_sends_only_a(capsys, pod_conf):
    document = lookup_json(capsys, "api.example.com", "--resolv-conf", pod_conf, "--family", "inet",
                           "--exists", "api.example.com")
    assert {q["qtype"] for q in document["queries"]} == {"A"}
    assert len(document["queries"]) == 5
