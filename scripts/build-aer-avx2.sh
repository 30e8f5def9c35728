#!/usr/bin/env bash
# Build qiskit-aer 0.18.2 from its PyPI sdist with AVX2 and FMA enabled and install it
# into the virtualenv VENV, replacing the wheel there (docs/install.md, "Aer built with
# AVX2"). The PyPI wheel compiles Aer's bindings without -mavx2, so its statevector never
# uses Aer's AVX2 kernels; this build does. The result runs only on CPUs with AVX2 and FMA.
#
#   scripts/build-aer-avx2.sh VENV [WORKDIR]   (WORKDIR: sdist and wheel; ./build/aer-avx2)
#
# Needs a C++ compiler, the system cmake and ninja, and the headers of OpenBLAS,
# nlohmann-json and spdlog (Debian 12: apt-get install libopenblas-dev nlohmann-json3-dev
# libspdlog-dev). Conan is not used (DISABLE_CONAN=ON). Everything is built without
# pip's build isolation, so pip never builds cmake from source. About 2.5 minutes on 2 cores.
set -euo pipefail

AER_VERSION=0.18.2
AER_SDIST_SHA256=8df1171a0f3685d85a2e12425de7d907ee36d98e8cd749e9e853a7624037c060
JOBS=${JOBS:-2}  # parallel compile jobs

venv=${1:?usage: $0 VENV [WORKDIR]}
work=${2:-build/aer-avx2}

fail() { echo "build-aer-avx2: $*" >&2; exit 1; }
[ -x "$venv/bin/python" ] || fail "no Python at $venv/bin/python"
for flag in avx2 fma; do
    grep -qw "$flag" /proc/cpuinfo || fail "this CPU lacks $flag"
done
for header in /usr/include/nlohmann/json.hpp /usr/include/spdlog/spdlog.h; do
    [ -f "$header" ] || fail "missing $header (the packages are listed at the top of $0)"
done
command -v cmake >/dev/null || fail "no cmake on PATH"
pip() { "$venv/bin/python" -m pip "$@"; }

mkdir -p "$work"
# Build requirements of Aer's pyproject.toml, minus conan, cmake and ninja (system ones).
pip install --quiet 'scikit-build>=0.11.0' 'pybind11>=3.0' setuptools wheel

sdist="$work/qiskit_aer-$AER_VERSION.tar.gz"
if [ ! -f "$sdist" ]; then
    # --no-build-isolation: preparing the sdist's metadata would otherwise build cmake
    pip download --quiet --no-deps --no-binary :all: --no-build-isolation \
        -d "$work" "qiskit-aer==$AER_VERSION"
fi
echo "$AER_SDIST_SHA256  $sdist" | sha256sum --check --quiet

# CXXFLAGS reach CMAKE_CXX_FLAGS, so bindings.cc is compiled with __AVX2__ defined
# (GNUC_AVX2 in src/misc/common_macros.hpp) and QubitVector picks TransformerAVX2.
DISABLE_CONAN=ON CXXFLAGS="-mavx2 -mfma" CMAKE_BUILD_PARALLEL_LEVEL="$JOBS" \
    nice -n 15 "$venv/bin/python" -m pip wheel --no-build-isolation --no-deps \
    -w "$work/wheels" "$sdist"
wheel=$(ls "$work"/wheels/qiskit_aer-"$AER_VERSION"-*.whl)
pip install --no-deps --force-reinstall "$wheel"

# The AVX2 transformer must be in the extension (0 symbols in the PyPI wheel).
so=$("$venv/bin/python" -c "import glob, os, qiskit_aer as q; print(glob.glob(os.path.join(
    os.path.dirname(q.__file__), 'backends', 'controller_wrappers*.so'))[0])")
count=$(nm -C "$so" | grep -c TransformerAVX2 || true)
[ "$count" -gt 0 ] || fail "$so has no TransformerAVX2 symbols"
echo "build-aer-avx2: installed $wheel into $venv ($count TransformerAVX2 symbols)"
