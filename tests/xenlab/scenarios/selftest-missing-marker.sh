#!/bin/bash
# SPDX-License-Identifier: ISC
# Harness self-test (meson: should_fail): waits forever for something that
# never comes, so xenlab-run must kill it at its timeout and fail loudly with
# the serial log tail.  It must never pass.
. /usr/lib/xenlab/lib.sh
mark WAITING_FOR_NEVER_COMES
until xenstore-read /local/domain/0/xenlab-never-written >/dev/null 2>&1; do sleep 1; done
mark NEVER_COMES
fail "the key that is never written was found"
