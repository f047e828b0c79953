#!/usr/bin/env bash
# `migcheck check` as a step of action.yml runs it: the step's own options ("$@"), then
# `--diff origin/<base>` on a pull request, then the `args` and `paths` inputs (all from the
# environment: inputs never reach a script as text). With FINDINGS_OK set, findings (exit 1) do
# not fail the step: another step reports them. Exit 2 (usage, configuration) always does.
cmd=("$MIGCHECK" check "$@")
if [ -n "$BASE_REF" ]; then cmd+=(--diff "origin/$BASE_REF"); fi
read -r -a args <<< "$ARGS"
read -r -a paths <<< "$PATHS"
status=0
"${cmd[@]}" "${args[@]}" "${paths[@]}" || status=$?
if [ "$status" -eq 1 ] && [ -n "$FINDINGS_OK" ]; then exit 0; fi
exit "$status"
