#!/usr/bin/env bash
# Install a single-host Slurm (controller + compute daemon + client tools) and
# MUNGE from Debian's packages, for the live tests in tests/slurm/.
#
# Idempotent: does nothing when the tools are already installed. Does not
# start any daemon and does not write /etc/slurm: the pytest fixture in
# tests/slurm/conftest.py writes its own slurm.conf into a temporary
# directory and starts munged, slurmctld and slurmd itself.
#
# Debian 12 (bookworm) ships Slurm 22.05 as: slurmctld, slurmd, slurm-client
# (sbatch, srun, squeue, scontrol, sinfo ...) and munge (munged, mungekey).
set -euo pipefail

packages=(slurmctld slurmd slurm-client munge)
export PATH="$PATH:/usr/sbin:/sbin"  # the daemons live in sbin

# sbatch --version needs a slurm.conf; ask dpkg instead.
slurm_version() {
    dpkg-query -W -f='${Version}' slurm-client 2>/dev/null || echo unknown
}

need=()
for cmd in slurmctld slurmd sbatch srun scontrol sinfo munged; do
    command -v "$cmd" >/dev/null 2>&1 || need+=("$cmd")
done
if [ ${#need[@]} -eq 0 ]; then
    echo "install-slurm: Slurm and MUNGE already installed ($(slurm_version))"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo -n"
    else
        echo "install-slurm: need root (or sudo) to install ${packages[*]}" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
# The packages' maintainer scripts would start munge/slurmctld/slurmd with the
# default /etc config (there is none yet; the tests start their own daemons).
# A policy-rc.d that says "no" (exit 101) stops that; ours is removed again.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get update -q
# --no-install-recommends keeps out slurmdbd/mariadb and the docs
$SUDO apt-get install -y -q --no-install-recommends "${packages[@]}"

for cmd in slurmctld slurmd sbatch srun scontrol sinfo munged; do
    command -v "$cmd" >/dev/null 2>&1 || { echo "install-slurm: $cmd missing after install" >&2; exit 1; }
done
echo "install-slurm: installed Slurm $(slurm_version)"
