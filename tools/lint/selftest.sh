#!/usr/bin/env bash
# Proves the workspace's own lint rules catch what they claim: each case plants a small file in a
# project, lints it from that project's root as `nx lint` does, and expects the rule's message (or,
# for a file that may do it, no error). Planted files are removed on exit. Usage: tools/lint/selftest.sh
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
planted=()
trap 'rm -f "${planted[@]}"' EXIT
passed=0 failed=0

# case_ <project dir> <file in it> <expected message fragment, or "" for a clean lint> <source>
case_() {
  local project="$1" file="$2" expect="$3" source="$4" out status
  planted+=("$REPO/$project/$file")
  printf '%s\n' "$source" >"$REPO/$project/$file"
  out="$(cd "$REPO/$project" && npx eslint --max-warnings=0 "$file" 2>&1)"
  status=$?
  if [[ -z "$expect" ]]; then
    [[ $status -eq 0 ]]
  else
    [[ $status -ne 0 ]] && grep -qF -- "$expect" <<<"$out"
  fi
  if [[ $? -eq 0 ]]; then
    passed=$((passed + 1))
  else
    echo "FAILED: $project/$file (wanted ${expect:-a clean lint}):"
    echo "$out" | head -8
    failed=$((failed + 1))
  fi
  rm -f "$REPO/$project/$file"
}

case_ libs/config src/planted-switch.ts 'Cases not matched: "b"' "
export function planted(kind: 'a' | 'b'): number {
  switch (kind) {
    case 'a':
      return 1;
  }
  return 0;
}"
case_ libs/config src/planted-switch.ts 'Cases not matched: default' "
export function planted(name: string): number {
  switch (name) {
    case 'a':
      return 1;
  }
  return 0;
}"
case_ apps/auth src/planted-fake.ts 'can only depend on libs tagged with' "
import { createTestSigner } from '@overture/testing';
export const planted = createTestSigner;"
case_ apps/auth src/planted-fake.spec.ts '' "
import { createTestSigner } from '@overture/testing';
import { expect, it } from 'vitest';
it('may use the test fakes', () => expect(createTestSigner).toBeTypeOf('function'));"
case_ tools planted-app-import.ts 'Projects cannot be imported by a relative or absolute path' "
import { runCommand } from '../apps/metadata/src/commands.ts';
export const planted = runCommand;"

case_ apps/metadata src/tracks/planted-error.ts "throw a factory from the app's *.errors.ts" "
import { DomainError, ErrorCategory } from '@overture/grpc';
export const planted = (): DomainError => new DomainError(ErrorCategory.NotFound, 'TRACK_NOT_FOUND', 'x');"
case_ apps/metadata src/search/planted-import.ts 'the online service must not import the importer' "
import * as importer from '../import/catalogue-import.js';
export const planted = importer;"

echo "lint selftest: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
