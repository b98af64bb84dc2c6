// Source entry point of the CLI (`node --import tsx server/meridian.ts …`); bin/meridian.js runs the build.
import { main } from './cli.js';

await main(process.argv);
