// The fixture project tests/arch/unit-run-guard.test.ts runs tests/support/unit-run.ts on.
export default { test: { include: ['*.fixture.test.ts'], pool: 'forks' } };
