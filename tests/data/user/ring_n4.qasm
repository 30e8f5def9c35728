// tests/test_user_circuits.py: 4 qubits, a ring of CX between rotations.
// Trainable angles are `input` parameters; stdgates.inc has no rzz, so zz is defined here.
OPENQASM 3.0;
include "stdgates.inc";
gate zz(t) a, b { cx a, b; rz(t) b; cx a, b; }
input angle shared;
input float[64] t0;
input float[64] t1;
input float[64] t2;
input float[64] t3;
qubit[4] q;
h q[0];
ry(t0) q[0];
ry(t1) q[1];
ry(t2) q[2];
ry(t3) q[3];
cx q[0], q[1];
cx q[1], q[2];
cx q[2], q[3];
cx q[3], q[0];
rz(2 * shared - pi / 2) q[0];
zz(-shared) q[1], q[3];
rx(pi - t0) q[1];
