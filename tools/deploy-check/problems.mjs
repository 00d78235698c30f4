// Every problem the checks find, printed together by validate.mjs (which then exits 1).
export const problems = [];

export function fail(where, message) {
  problems.push(`${where}: ${message}`);
}
