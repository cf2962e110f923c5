"""`vigil queue`, `vigil assess`, `vigil cluster`: the queue puts a contradiction
first and explains every entry; known items and decided items never show; a
cluster decision settles its members and is undone cleanly; a policy file
reorders the queue."""

import json
import pathlib

import pytest

from triage_case import Case, encoded, texture, write


def _queue(case: Case, *extra: str) -> list[dict]:
    done = case.run("queue", "--json", *extra)
    assert done.exit_code == 0, done.output
    return [json.loads(line) for line in done.output.splitlines()]


def _assess(case: Case, sha: str, *extra: str) -> dict:
    done = case.run(
        "assess", sha, "--child", "no", "--realism", "photographic", "--ai", "no",
        "--outcome", "not_criminal", "--reason", "off_remit", "--json", *extra,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    return json.loads(done.output)


def test_the_queue_puts_the_contradiction_first_and_explains_every_entry(
    case: Case,
) -> None:
    case.scan()
    entries = _queue(case)
    assert entries[0]["item"] == case.sha["contradiction"]
    assert entries[0]["rule"] == "claimed_ai_contradiction"
    assert [e["position"] for e in entries] == list(range(1, len(entries) + 1))
    for entry in entries:
        assert entry["rule"] and entry["reasons"], entry
        assert set(entry) >= {"position", "item", "rule", "reasons", "cluster"}
    queued = {e["item"] for e in entries}
    assert case.sha["known"] not in queued  # labelled from the list instead
    # one entry stands for the three near-duplicates
    dups = {case.sha["dup_png"], case.sha["dup_jpeg"], case.sha["dup_small"]}
    (dup_entry,) = [e for e in entries if e["item"] in dups]
    assert dup_entry["cluster_kind"] == "near_duplicate"
    assert dup_entry["cluster_size"] == 3 and dup_entry["pending"] == 3
    assert len(entries) == 1 + 1 + 3  # contradiction, the cluster, 3 singles
    assert all(e["rule"] == "likely_real_unknown" for e in entries[1:])


def test_known_items_are_labelled_from_the_list_and_recorded_as_list_derived(
    case: Case,
) -> None:
    case.scan()
    _queue(case)
    done = case.run("assessments", "export", "--json")
    labelled = [json.loads(line) for line in done.output.splitlines()]
    by_item = {a["sha256"]: a for a in labelled}
    known = by_item[case.sha["known"]]
    assert known["source"] == "hash_list" and known["active"]
    assert known["derived"]["category"] == "known-test"
    assert known["derived"]["hash_list"] == "real"
    assert by_item[case.sha["contradiction"]]["source"] == "hash_list"
    _queue(case)  # labelling again adds nothing
    again = case.run("assessments", "export", "--json").output.splitlines()
    assert len(again) == len(labelled)


def test_a_quality_control_sample_of_known_items_is_queued(case: Case) -> None:
    case.scan()
    policy = case.root / "qc.toml"
    text = case.run("queue", "--show-policy").output
    policy.write_text(text.replace("qc_sample_rate = 0.02", "qc_sample_rate = 1.0"))
    entries = _queue(case, "--policy", str(policy))
    qc = [e for e in entries if e["rule"] == "quality_control"]
    assert [e["item"] for e in qc] == [case.sha["known"]]
    assert entries[0]["rule"] == "claimed_ai_contradiction"


def test_changing_the_policy_file_reorders_the_queue(case: Case) -> None:
    case.scan()
    default = [e["item"] for e in _queue(case)]
    policy = case.root / "policy.toml"
    policy.write_text(
        'version = "test"\n'
        "[[rule]]\n"
        'name = "smallest_first"\n'
        "when = []\n"
        'order = ["cluster_size"]\n'
    )
    entries = _queue(case, "--policy", str(policy))
    assert {e["rule"] for e in entries} == {"smallest_first"}
    reordered = [e["item"] for e in entries]
    assert reordered != default
    # a contradiction is always queued first, whatever the policy
    assert reordered[0] == case.sha["contradiction"]
    assert entries[-1]["cluster_size"] == 3  # the cluster now comes last
    assert default.index(entries[-1]["item"]) == 1  # it came right after


def test_a_bad_policy_file_is_one_line_and_a_usage_error(case: Case) -> None:
    case.scan()
    policy = case.root / "bad.toml"
    policy.write_text('[[rule]]\nname = "x"\nwhen = [{ fact = "age", value = 3 }]\n')
    done = case.run("queue", "--policy", str(policy))
    assert done.exit_code == 2
    assert "unknown fact 'age'" in done.output
    assert "Traceback" not in done.output


def test_a_cluster_decision_settles_its_members_and_is_undone_cleanly(
    case: Case,
) -> None:
    case.scan()
    entries = _queue(case)
    dups = {case.sha["dup_png"], case.sha["dup_jpeg"], case.sha["dup_small"]}
    (entry,) = [e for e in entries if e["item"] in dups]
    listed = json.loads(
        case.run("cluster", "show", str(entry["cluster"]), "--json").output
    )
    representative = listed["members"][0]["item"]
    decision = _assess(case, representative, "--cluster")
    (propagation,) = decision["propagations"]
    assert len(propagation["items"]) == 2
    after = {e["item"] for e in _queue(case)}
    assert not dups & after
    assert len(after) == len(entries) - 1

    undone = case.run("cluster", "undo", str(propagation["id"]), "--json")
    assert undone.exit_code == 0, undone.output
    returned = _queue(case)
    back = {e["item"] for e in returned}
    # the two members are back (one entry for both); the representative, assessed
    # itself, is not
    (entry,) = [e for e in returned if e["item"] in dups]
    assert entry["item"] != representative and entry["pending"] == 2
    assert back == after | {entry["item"]}
    again = case.run("cluster", "undo", str(propagation["id"]))
    assert again.exit_code == 2 and "undone already" in again.output
    history = [
        json.loads(line)
        for line in case.run("assessments", "export").output.splitlines()
    ]
    propagated = [a for a in history if a["source"] == "propagated"]
    assert len(propagated) == 2 and not any(a["active"] for a in propagated)


def test_assess_with_cluster_refuses_an_item_that_represents_none(case: Case) -> None:
    case.scan()
    _queue(case)
    done = case.run(
        "assess", case.sha["single0"], "--child", "no", "--realism", "photographic",
        "--ai", "no", "--outcome", "not_criminal", "--reason", "off_remit",
        "--cluster",
    )  # fmt: skip
    assert done.exit_code == 2 and "represents no" in done.output
    assert case.run("assessments", "export").output == "" or all(
        json.loads(line)["source"] == "hash_list"
        for line in case.run("assessments", "export").output.splitlines()
    )


def test_nothing_assessed_comes_back_and_a_correction_supersedes(case: Case) -> None:
    case.scan()
    first = _assess(case, case.sha["single1"])["assessment"]
    assert case.sha["single1"] not in {e["item"] for e in _queue(case)}
    second = _assess(case, case.sha["single1"], "--seconds", "12.5")["assessment"]
    assert second["supersedes"] == first["id"]
    history = {
        a["id"]: a
        for a in map(json.loads, case.run("assessments", "export").output.splitlines())
    }
    assert not history[first["id"]]["active"] and history[second["id"]]["active"]
    assert history[second["id"]]["seconds"] == 12.5
    case.scan()  # a second scan of the same folder
    assert case.sha["single1"] not in {e["item"] for e in _queue(case)}


def test_inconsistent_observations_are_refused_in_one_line(case: Case) -> None:
    case.scan()
    done = case.run(
        "assess", case.sha["single2"], "--child", "yes", "--realism", "photographic",
        "--ai", "no", "--outcome", "criminal", "--act", "none",
    )  # fmt: skip
    assert done.exit_code == 2
    assert "Traceback" not in done.output
    assert case.run("assessments", "export").output.count("single2") == 0


def test_an_unknown_item_is_a_usage_error(case: Case) -> None:
    case.scan()
    done = _raw_assess(case, "0" * 64)
    assert done.exit_code == 2 and "no item" in done.output


def _raw_assess(case: Case, sha: str):  # noqa: ANN202
    return case.run(
        "assess", sha, "--child", "no", "--realism", "photographic", "--ai", "no",
        "--outcome", "not_criminal", "--reason", "off_remit",
    )  # fmt: skip


def test_a_new_scan_adds_to_existing_clusters(case: Case) -> None:
    case.scan()
    before = {
        c["id"]: c
        for c in map(
            json.loads, case.run("cluster", "list", "--json").output.splitlines()
        )
        if c["kind"] == "near_duplicate"
    }
    (cluster_id,) = before
    more = case.root / "later"
    base = texture(2)
    new = write(more, "t9/again.jpg", encoded(base, "JPEG", quality=70))
    case.scan(more)
    after = {
        c["id"]: c
        for c in map(
            json.loads, case.run("cluster", "list", "--json").output.splitlines()
        )
        if c["kind"] == "near_duplicate"
    }
    assert list(after) == [cluster_id]
    assert new in after[cluster_id]["members_sha256"]
    assert after[cluster_id]["size"] == 4


def test_the_queue_of_an_empty_store_says_so(tmp_path: pathlib.Path) -> None:
    from click.testing import CliRunner

    from vigil.cli import cli

    done = CliRunner().invoke(cli, ["queue"], env={"VIGIL_HOME": str(tmp_path)})
    assert done.exit_code == 2 and "no scans yet" in done.output


def test_a_refresh_waits_for_another_and_nothing_is_stored_twice(case: Case) -> None:
    import os
    import subprocess
    import sys

    from vigil.store import open_store

    case.scan()
    command = [sys.executable, "-m", "vigil", "cluster", "list", "--json"]
    env = {**os.environ, **case.env}
    store = open_store(f"sqlite:///{case.home / 'vigil.sqlite3'}")
    with store.triage.exclusive():  # another process is refreshing
        running = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(3)
        ]
        with pytest.raises(subprocess.TimeoutExpired):
            running[0].wait(timeout=3)  # it waits for the lock
    store.close()
    outputs = [p.communicate(timeout=120)[0] for p in running]
    assert all(p.returncode == 0 for p in running)
    again = case.run("cluster", "list", "--json").output.splitlines()
    assert all(sorted(o.splitlines()) == sorted(again) for o in outputs)
    keys = [(c["kind"], tuple(sorted(c["members"]))) for c in map(json.loads, again)]
    assert len(keys) == len(set(keys))  # no cluster stored twice
    history = case.run("assessments", "export").output.splitlines()
    labelled = [json.loads(line)["sha256"] for line in history]
    assert len(labelled) == len(set(labelled))  # no item labelled twice


def test_an_assessment_derives_again_under_its_own_or_another_mapping(
    case: Case,
) -> None:
    case.scan()
    made = case.run(
        "assess", case.sha["single0"], "--child", "yes", "--age", "11-13",
        "--sex", "unclear", "--act", "A", "--realism", "photographic", "--ai", "no",
        "--outcome", "criminal", "--json",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assessment = json.loads(made.output)["assessment"]
    assert assessment["derived"]["ncmec_class"] == "A1"
    same = json.loads(
        case.run("assessments", "derive", str(assessment["id"]), "--json").output
    )
    assert same["changed"] == [] and same["derived"] == assessment["derived"]
    unknown = case.run(
        "assessments", "derive", str(assessment["id"]), "--mapping", "99"
    )
    assert unknown.exit_code == 2 and "99" in unknown.output


@pytest.mark.postgres
def test_the_queue_and_a_cluster_decision_on_postgresql(
    case: Case, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        Case, "env", property(lambda c: {
            "VIGIL_HOME": str(c.home),
            "VIGIL_ANALYST": "tester",
            "VIGIL_DATABASE_URL": postgres_url,
        })
    )  # fmt: skip
    imported = case.run(
        "hashlist", "import", str(case.root / "real.csv"), "--list", "real", "--create"
    )
    assert imported.exit_code == 0, imported.output
    case.scan()
    entries = _queue(case)
    assert entries[0]["item"] == case.sha["contradiction"]
    dups = {case.sha["dup_png"], case.sha["dup_jpeg"], case.sha["dup_small"]}
    (entry,) = [e for e in entries if e["item"] in dups]
    shown = json.loads(
        case.run("cluster", "show", str(entry["cluster"]), "--json").output
    )
    decision = _assess(case, shown["members"][0]["item"], "--cluster")
    assert not dups & {e["item"] for e in _queue(case)}
    (propagation,) = decision["propagations"]
    assert case.run("cluster", "undo", str(propagation["id"])).exit_code == 0
    assert dups & {e["item"] for e in _queue(case)}


def test_decisions_undos_and_exports_are_in_the_audit_log(case: Case) -> None:
    import hashlib

    case.scan()
    entries = _queue(case)
    dups = {case.sha["dup_png"], case.sha["dup_jpeg"], case.sha["dup_small"]}
    (entry,) = [e for e in entries if e["item"] in dups]
    shown = json.loads(
        case.run("cluster", "show", str(entry["cluster"]), "--json").output
    )
    decision = _assess(case, shown["members"][0]["item"], "--cluster")
    (propagation,) = decision["propagations"]
    case.run("cluster", "undo", str(propagation["id"]))
    exported = case.run("assessments", "export", "--csv").output
    log = [
        json.loads(x) for x in case.run("audit", "list", "--json").output.splitlines()
    ]
    assert [r["action"] for r in log] == ["decision", "propagation_undone", "export"]
    assert (
        log[0]["actor"] == "tester" and log[0]["target"] == shown["members"][0]["item"]
    )
    assert log[0]["details"]["propagations"] == [propagation["id"]]
    assert log[2]["details"]["sha256"] == hashlib.sha256(exported.encode()).hexdigest()
    assert case.run("audit", "verify").exit_code == 0


def test_a_cluster_entry_is_its_representative(case: Case) -> None:
    case.scan()
    entries = _queue(case)
    (entry,) = [e for e in entries if e["cluster_kind"] == "near_duplicate"]
    shown = json.loads(
        case.run("cluster", "show", str(entry["cluster"]), "--json").output
    )
    assert entry["item"] == shown["members"][0]["item"]  # representative first


def test_once_the_representative_is_decided_the_next_member_carries_the_cluster(
    case: Case,
) -> None:
    case.scan()
    entries = _queue(case)
    (entry,) = [e for e in entries if e["cluster_kind"] == "near_duplicate"]
    _assess(case, entry["item"])  # the representative alone, not the cluster
    (next_entry,) = [e for e in _queue(case) if e["cluster"] == entry["cluster"]]
    assert next_entry["item"] != entry["item"] and next_entry["pending"] == 2
    decision = _assess(case, next_entry["item"], "--cluster")
    (propagation,) = decision["propagations"]
    assert len(propagation["items"]) == 1  # the last member; the first kept its own
    assert not [e for e in _queue(case) if e["cluster"] == entry["cluster"]]
