"""Issue 12: hostile files. Special files, links out of the input folder, import cycles,
Corefiles too deep or too long: refused at once with a positioned error (exit 2)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from kalc_formal.cli import main
from kalc_formal.coredns.corefile import limits, load_corefile
from kalc_formal.errors import ConfigError

SMALL = Path(__file__).resolve().parent.parent / "examples" / "small-cluster"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("role", ["corefile", "import", "env", "resolv-conf"])
def test_a_fifo_is_refused_without_blocking(tmp_path, capsys, role):
    fifo = tmp_path / ("Corefile" if role == "corefile" else "special.conf")
    os.mkfifo(fifo)
    if role == "corefile":
        argv = ["inspect", str(fifo)]
    elif role == "import":
        (tmp_path / "main.Corefile").write_text(". {\n    import special.conf\n}\n")
        argv = ["inspect", str(tmp_path / "main.Corefile")]
    elif role == "env":
        argv = ["check", str(SMALL), "--env", str(fifo)]
    else:
        argv = ["lookup", "a.example", "--resolv-conf", str(fifo)]
    start = time.perf_counter()
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert "a FIFO, not a regular file; not read" in err
    assert time.perf_counter() - start < 10


@pytest.mark.parametrize("name", ["Corefile", "kalc.yaml"])
def test_a_link_out_of_the_input_folder_is_not_read_or_echoed(tmp_path, capsys, name):
    secret = tmp_path / "secret"
    secret.write_text("aws_secret_access_key = AKIAEXAMPLESECRET\n")
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SMALL / "workloads.yaml", folder)
    os.symlink(secret, folder / name)
    code, out, err = run(capsys, "check", str(folder))
    assert code == 2
    assert "outside" in err
    assert "AKIAEXAMPLESECRET" not in err + out


def test_import_cycles_are_named_at_once(tmp_path):
    for index in range(10):
        (tmp_path / f"f{index}.conf").write_text("import *.conf\n")
    (tmp_path / "Corefile").write_text(". {\n    import *.conf\n    forward . 1.1.1.1\n}\n")
    start = time.perf_counter()
    with pytest.raises(ConfigError, match=r"import cycle: .*f0\.conf -> .*f0\.conf"):
        load_corefile(tmp_path / "Corefile")
    assert time.perf_counter() - start < 5


def test_a_cycle_through_two_files_names_both(tmp_path):
    (tmp_path / "a.conf").write_text("import b.conf\n")
    (tmp_path / "b.conf").write_text("import a.conf\n")
    (tmp_path / "Corefile").write_text(". {\n    import a.conf\n}\n")
    with pytest.raises(ConfigError, match=r"import cycle: .*b\.conf -> .*a\.conf -> .*b\.conf"):
        load_corefile(tmp_path / "Corefile")


def test_the_same_file_imported_twice_is_not_a_cycle(tmp_path):
    (tmp_path / "log.conf").write_text("log\n")
    (tmp_path / "Corefile").write_text(". {\n    import log.conf\n}\nexample.org {\n    import log.conf\n}\n")
    assert len(load_corefile(tmp_path / "Corefile").blocks) == 2


def test_blocks_nested_100000_deep_are_refused_not_a_recursion_error(tmp_path, capsys):
    (tmp_path / "Corefile").write_text(". {\n    forward . 1.1.1.1 " + "{\n" * 100_000 + "}\n" * 100_001)
    code, _out, err = run(capsys, "inspect", str(tmp_path / "Corefile"))
    assert code == 2
    assert "blocks are nested more than 100 deep" in err


def test_the_token_cap_applies_while_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_TOKENS", 1_000)
    (tmp_path / "Corefile").write_text(". {\n    log" + " a" * 50_000 + "\n}\n")
    with pytest.raises(ConfigError, match=r"more than 1,000 tokens; not read further") as info:
        load_corefile(tmp_path / "Corefile")
    assert info.value.span is not None
    assert info.value.span.column < 3_000  # stopped near the 1,000th token, not at the end


def test_an_import_glob_of_large_files_stops_at_the_total_size(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_TOTAL_BYTES", 100_000)
    for index in range(5):
        (tmp_path / f"big{index}.conf").write_text("log\n" * 10_000)
    (tmp_path / "Corefile").write_text(". {\n    import big*.conf\n}\n")
    with pytest.raises(ConfigError, match="imports are larger than 100,000 bytes together"):
        load_corefile(tmp_path / "Corefile")


def test_an_import_through_a_linked_folder_stays_inside_the_root(tmp_path):
    real = tmp_path / "real"
    (real / "custom").mkdir(parents=True)
    (real / "custom" / "a.override").write_text("log\n")
    (real / "Corefile").write_text(". {\n    import custom/*.override\n}\n")
    os.symlink(real, tmp_path / "link")  # as every ConfigMap mount is
    corefile = load_corefile(tmp_path / "link" / "Corefile", import_root=tmp_path / "link")
    assert [d.name for d in corefile.blocks[0].directives] == ["log"]


def test_an_import_glob_without_a_match_is_fine(tmp_path):
    (tmp_path / "Corefile").write_text(". {\n    import custom/*.override\n    log\n}\n")
    corefile = load_corefile(tmp_path / "Corefile")
    assert any("No files matching import glob pattern" in w for w in corefile.warnings)


def test_an_unset_environment_reference_says_it_read_as_empty(tmp_path):
    (tmp_path / "Corefile").write_text(". {\n    forward . 1.1.1.1 {$X}\n}\n")
    corefile = load_corefile(tmp_path / "Corefile")
    assert any("X in {$X} is not set here and reads as empty" in w for w in corefile.warnings)


def test_control_characters_in_tokens_and_paths_are_escaped(tmp_path, capsys):
    folder = tmp_path / "a\x1b[31mb"
    folder.mkdir()
    (folder / "Corefile").write_text(". {\n    bad\x07directive\n}\n")
    code, out, err = run(capsys, "inspect", str(folder / "Corefile"))
    assert code == 2
    assert "\x1b" not in err + out
    assert "\x07" not in err + out
    assert "a\\x1b[31mb" in err


# ---- valid input refused: k3s and AKS custom imports -----------------------------------

K3S_MOUNTS = """        volumeMounts:
        - name: config-volume
          mountPath: /etc/coredns
        - name: custom-config-volume
          mountPath: /etc/coredns/custom
      volumes:
      - name: config-volume
        configMap:
          name: coredns
          items:
          - key: Corefile
            path: Corefile
      - name: custom-config-volume
        configMap:
          name: coredns-custom
          optional: true
"""

CUSTOM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: coredns-custom
  namespace: kube-system
data:
  log.override: |
    log
  other.server: |
    example.org:53 {
        errors
    }
"""


def k3s_cluster(tmp_path: Path, custom: bool) -> Path:
    folder = tmp_path / "k3s"
    shutil.copytree(SMALL, folder)
    deployment = folder / "coredns.yaml"
    text = deployment.read_text()
    start = text.index("        volumeMounts:")
    end = text.index("---", start)
    deployment.write_text(text[:start] + K3S_MOUNTS + text[end:])
    configmap = folder / "coredns-configmap.yaml"
    configmap.write_text(configmap.read_text().replace(
        "        loadbalance\n    }\n",
        "        loadbalance\n        import /etc/coredns/custom/*.override\n    }\n"
        "    import /etc/coredns/custom/*.server\n"))
    if custom:
        (folder / "coredns-custom.yaml").write_text(CUSTOM)
    return folder


def test_a_k3s_custom_import_without_the_custom_configmap_is_fine(tmp_path, capsys):
    code, out, err = run(capsys, "check", str(k3s_cluster(tmp_path, custom=False)))
    assert code == 0, err
    assert out.startswith("verdict: proved")


def test_a_k3s_custom_import_reads_the_mounted_configmap(tmp_path, capsys):
    folder = k3s_cluster(tmp_path, custom=True)
    code, out, err = run(capsys, "inspect", str(folder))
    assert code == 0, err
    assert f"log          {folder / 'coredns-custom.yaml'}:8:5" in out
    assert f"example.org.:53 (dns, zone example.org., port 53) at {folder / 'coredns-custom.yaml'}:10:5" in out
