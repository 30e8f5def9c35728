"""A real Slurm cluster on localhost for the tests marked ``slurm``.

The session-scoped fixture `slurm_cluster` starts a private MUNGE daemon, a
slurmctld and a slurmd (one node: this host, all its CPUs) from a slurm.conf
written into a temporary directory, points SLURM_CONF at it for the session,
and stops everything at the end. Nothing under /etc is read or written, and
the ports are free ones picked at start, so a site Slurm on the same host is
left alone.

Slurm and MUNGE come from Debian's packages: ``bash .ci/install-slurm.sh``.
Without them (or without root, which slurmd needs) the tests are skipped with
the reason, unless BPSUITE_REQUIRE_SLURM=1 (CI sets it): then they fail.

docs/slurm.md ("The test cluster") explains each setting of the slurm.conf.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "srun", "scontrol", "sinfo", "squeue", "scancel")

TERMINAL_STATES = frozenset(
    {
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "TIMEOUT",
        "NODE_FAIL",
        "PREEMPTED",
        "OUT_OF_MEMORY",
        "BOOT_FAIL",
        "DEADLINE",
        "REVOKED",
        "SPECIAL_EXIT",
    }
)

# Requeued jobs may start again after AuthInfo's cred_expire + 1 seconds
# (Slurm's default 120 s; 5 s is the minimum).
CRED_EXPIRE = 5


def _which(name: str) -> str | None:
    path = os.pathsep.join([os.environ.get("PATH", ""), *SBIN])
    return shutil.which(name, path=path)


def _missing_reason() -> str | None:
    missing = [name for name in (*DAEMONS, *CLIENTS) if _which(name) is None]
    if missing:
        return (
            f"Slurm/MUNGE not installed (missing {', '.join(missing)}): "
            "run `bash .ci/install-slurm.sh`"
        )
    if os.geteuid() != 0:
        return "the localhost Slurm cluster needs root (slurmd runs jobs as their owner)"
    return None


def _unavailable(reason: str) -> None:
    """Skip with the reason, or fail when BPSUITE_REQUIRE_SLURM=1."""
    if os.environ.get("BPSUITE_REQUIRE_SLURM") == "1":
        pytest.fail(f"BPSUITE_REQUIRE_SLURM=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _node_hardware() -> dict[str, str]:
    """Topology as slurmd sees it (slurmd -C), so the node is never drained for it."""
    hardware = {"CPUs": str(os.cpu_count() or 1)}
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    try:
        out = subprocess.run(
            [_which("slurmd") or "slurmd", "-C"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    for key in (
        "CPUs",
        "Boards",
        "SocketsPerBoard",
        "CoresPerSocket",
        "ThreadsPerCore",
        "RealMemory",
    ):
        match = re.search(rf"\b{key}=(\d+)", out)
        if match:
            hardware[key] = match.group(1)
    memory_mb = int(hardware.get("RealMemory", memory_mb))
    # a little below the truth: slurmd drains a node that has less than configured
    hardware["RealMemory"] = str(max(100, memory_mb * 9 // 10))
    return hardware


def slurm_conf_text(
    root: Path, hostname: str, ports: tuple[int, int], hardware: dict[str, str], munge_socket: Path
) -> str:
    """The slurm.conf of the test cluster (all state under `root`)."""
    node = " ".join(f"{k}={v}" for k, v in hardware.items())
    return f"""\
# localhost test cluster of barren-plateau-suite (tests/slurm/conftest.py)
ClusterName=bpsuite-test
SlurmctldHost={hostname}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ports[0]}
SlurmdPort={ports[1]}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket},cred_expire={CRED_EXPIRE}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/run/slurmctld.pid
SlurmdPidFile={root}/run/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
MpiDefault=none
JobRequeue=1
ReturnToService=2
MinJobAge=3600
KillWait=5
OverTimeLimit=0
InactiveLimit=0
Waittime=0
SlurmctldTimeout=30
SlurmdTimeout=30
MessageTimeout=10
NodeName={hostname} NodeAddr=127.0.0.1 {node} State=UNKNOWN
PartitionName=debug Nodes={hostname} Default=YES MaxTime=INFINITE State=UP
"""


def parse_job(text: str) -> dict[str, str]:
    """Fields of `scontrol show job -o` (one line of Key=Value; values we use have no spaces)."""
    return dict(re.findall(r"(?:^|\s)([A-Za-z:/_]+)=(\S*)", text))


@dataclass
class SlurmCluster:
    """The running test cluster and helpers to use it."""

    root: Path
    conf: Path
    hostname: str
    cpus: int
    env: dict[str, str] = field(repr=False)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict, repr=False)

    def run(
        self, *command: str, check: bool = True, timeout: float = 60, **kwargs
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            list(command), capture_output=True, text=True, env=self.env, timeout=timeout, **kwargs
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def submit(self, script: str | Path, *options: str) -> str:
        """sbatch --parsable; the job id."""
        out = self.run("sbatch", "--parsable", *options, str(script)).stdout
        return out.strip().split(";")[0]

    def job(self, job_id: str) -> dict[str, str]:
        """The job's fields now (kept for MinJobAge=3600 s after it ends)."""
        result = self.run("scontrol", "show", "job", "-o", job_id, check=False)
        if result.returncode != 0:
            return {}
        return parse_job(result.stdout)

    def state(self, job_id: str) -> str:
        return self.job(job_id).get("JobState", "UNKNOWN")

    def wait_until(
        self,
        job_id: str,
        predicate: Callable[[dict[str, str]], bool],
        timeout: float,
        what: str = "condition",
    ) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        info: dict[str, str] = {}
        while time.monotonic() < deadline:
            info = self.job(job_id)
            if info and predicate(info):
                return info
            time.sleep(0.5)
        raise AssertionError(
            f"job {job_id}: no {what} within {timeout:.0f} s; last state "
            f"{info.get('JobState')} ({info.get('Reason')})\n{self.diagnostics()}"
        )

    def wait(self, job_id: str, timeout: float = 120) -> str:
        """Wait for the job to end for good (not requeued); its final state."""
        info = self.wait_until(
            job_id, lambda j: j.get("JobState") in TERMINAL_STATES, timeout, "final state"
        )
        return info["JobState"]

    def wait_running(
        self, job_id: str, timeout: float = 60, restarts: int | None = None
    ) -> dict[str, str]:
        def running(info: dict[str, str]) -> bool:
            if info.get("JobState") != "RUNNING":
                return False
            return restarts is None or info.get("Restarts") == str(restarts)

        return self.wait_until(job_id, running, timeout, "RUNNING state")

    def signal_batch(self, job_id: str, sig: str = "USR1") -> None:
        """What `--signal=B:<sig>@...` does at the time limit, now."""
        self.run("scancel", "--batch", f"--signal={sig}", job_id)

    def cancel_all(self) -> None:
        self.run("scancel", "--user", "root", check=False)

    def diagnostics(self) -> str:
        parts = []
        for name in ("slurmctld.log", "slurmd.log"):
            path = self.root / "log" / name
            if path.exists():
                lines = path.read_text(errors="replace").splitlines()[-15:]
                parts.append(f"--- {name} (tail)\n" + "\n".join(lines))
        return "\n".join(parts)

    def stop(self) -> None:
        self.cancel_all()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # let the jobs' processes end
            out = self.run("squeue", "-h", "-t", "RUNNING,COMPLETING", check=False).stdout
            if not out.strip():
                break
            time.sleep(0.5)
        for name in ("slurmd", "slurmctld", "munged"):
            process = self.processes.get(name)
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _start(cluster: SlurmCluster, name: str, *args: str) -> None:
    log = (cluster.root / "log" / f"{name}.stdout").open("ab")
    cluster.processes[name] = subprocess.Popen(
        [_which(name) or name, *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=cluster.env,
        start_new_session=True,
    )
    log.close()


def _wait_for(
    cluster: SlurmCluster, what: str, check: Callable[[], bool], timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in cluster.processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {process.returncode} while waiting "
                    f"for {what}\n{cluster.diagnostics()}"
                )
        if check():
            return
        time.sleep(0.3)
    raise RuntimeError(f"no {what} within {timeout} s\n{cluster.diagnostics()}")


def start_cluster(root: Path) -> SlurmCluster:
    """Start munged, slurmctld and slurmd with their state under `root`."""
    for sub in ("state", "spool", "run", "log", "munge", "jobs"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    munge = root / "munge"
    munge.chmod(0o755)  # the socket's directory: every user needs to reach it
    key = munge / "munge.key"
    if not key.exists():
        key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    munge_socket = munge / "munge.socket"

    hostname = socket.gethostname().split(".")[0]
    hardware = _node_hardware()
    conf = root / "slurm.conf"
    conf.write_text(
        slurm_conf_text(root, hostname, (_free_port(), _free_port()), hardware, munge_socket)
    )
    env = {
        **os.environ,
        "SLURM_CONF": str(conf),
        "PATH": os.pathsep.join([os.environ.get("PATH", ""), *SBIN]),
    }
    for variable in list(env):  # a surrounding allocation must not leak into ours
        if (
            variable.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_"))
            and variable != "SLURM_CONF"
        ):
            del env[variable]
    cluster = SlurmCluster(
        root=root, conf=conf, hostname=hostname, cpus=int(hardware["CPUs"]), env=env
    )
    try:
        _start(
            cluster,
            "munged",
            "--foreground",
            "--force",
            f"--socket={munge_socket}",
            f"--key-file={key}",
            f"--pid-file={munge}/munged.pid",
            f"--log-file={munge}/munged.log",
            f"--seed-file={munge}/munged.seed",
        )
        _wait_for(cluster, "MUNGE socket", munge_socket.exists, 30)
        _start(cluster, "slurmctld", "-D", "-c", "-i")
        _wait_for(
            cluster,
            "slurmctld answering",
            lambda: (
                cluster.run("scontrol", "ping", check=False).returncode == 0
                and "UP" in cluster.run("scontrol", "ping", check=False).stdout
            ),
        )
        _start(cluster, "slurmd", "-D", "-N", hostname)
        _wait_for(
            cluster,
            "node idle",
            lambda: "idle" in cluster.run("sinfo", "-h", "-o", "%T", check=False).stdout,
        )
    except BaseException:
        cluster.stop()
        raise
    return cluster


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    """A running single-node Slurm; SLURM_CONF points at it for the session."""
    reason = _missing_reason()
    if reason:
        _unavailable(reason)
    root = tmp_path_factory.mktemp("slurm")
    try:
        cluster = start_cluster(root)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        _unavailable(f"the localhost Slurm cluster did not start: {exc}")
        raise  # unreachable: _unavailable skips or fails
    saved = {k: os.environ.get(k) for k in ("SLURM_CONF", "PATH")}
    os.environ["SLURM_CONF"] = str(cluster.conf)
    os.environ["PATH"] = cluster.env["PATH"]
    try:
        yield cluster
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        cluster.stop()


@pytest.fixture
def fake_suite(tmp_path: Path) -> Path:
    """An interpreter that plays `python -m suite.cli` for the templates' tests.

    ``run JOB --out DIR``: records its rank and MPI size, then on attempt 0
    (SLURM_RESTART_COUNT unset or 0) waits for SIGUSR1/SIGTERM and exits 75
    like the real runner; on a later attempt it writes DIR/complete and exits 0.
    ``status DIR --check-complete``: exit 0 iff DIR/complete exists.
    ``analyze DIR``: writes DIR/analysis/report.md.
    With FAKE_EXIT=N in the environment, ``run`` exits N at once; with
    FAKE_SIGNAL_EXIT=N it exits N (instead of 75) on a signal.
    """
    path = tmp_path / "fake-python"
    path.write_text(f"#!{sys.executable}\n" + FAKE_SUITE)
    path.chmod(0o755)
    return path


FAKE_SUITE = r"""
import os, signal, sys, time
from pathlib import Path

args = sys.argv[1:]
assert args[:2] == ["-m", "suite.cli"], args
command, rest = args[2], args[3:]
restart = int(os.environ.get("SLURM_RESTART_COUNT") or 0)
if command == "run":
    out = Path(rest[rest.index("--out") + 1])
    try:
        from mpi4py import MPI
        rank, size = MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()
    except Exception as exc:  # noqa: BLE001
        print(f"no MPI: {exc}", flush=True)
        rank, size = 0, 1
    threads = os.environ.get("BPSUITE_THREADS"), os.environ.get("OMP_NUM_THREADS")
    out.mkdir(parents=True, exist_ok=True)
    (out / f"rank{rank}.attempt{restart}").write_text(f"{size} {threads[0]} {threads[1]}\n")
    print(f"fake run: rank {rank}/{size} attempt {restart} threads {threads}", flush=True)
    if os.environ.get("FAKE_EXIT"):
        sys.exit(int(os.environ["FAKE_EXIT"]))
    if restart == 0:
        stop = []
        signal.signal(signal.SIGUSR1, lambda s, f: stop.append(s))
        signal.signal(signal.SIGTERM, lambda s, f: stop.append(s))
        deadline = time.monotonic() + float(os.environ.get("FAKE_WAIT", "150"))
        while not stop and time.monotonic() < deadline:
            time.sleep(0.1)
        if stop:
            code = int(os.environ.get("FAKE_SIGNAL_EXIT") or 75)
            print(f"fake run: rank {rank} got signal {stop[0]}: exit {code}", flush=True)
            sys.exit(code)
        print("fake run: no signal came", flush=True)
        sys.exit(3)
    if rank == 0:
        (out / "complete").write_text("done\n")
    sys.exit(0)
if command == "status":
    out = Path(rest[0])
    complete = (out / "complete").exists()
    print("fake status:", "complete" if complete else "incomplete")
    sys.exit(0 if complete else 1)
if command == "analyze":
    out = Path(rest[0])
    (out / "analysis").mkdir(parents=True, exist_ok=True)
    (out / "analysis" / "report.md").write_text("# fake report\n")
    sys.exit(0)
sys.exit(f"fake suite: unknown command {command}")
"""
