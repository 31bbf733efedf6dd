// Runs the CLI in this process, without the jemalloc re-execution of bin/tandem.js (used by tests and dev).
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
