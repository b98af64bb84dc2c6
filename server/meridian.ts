// Source entry point of the CLI (`node --import tsx server/meridian.ts …`); bin/meridian.js runs the build.
// publish and poll are clients: their module loads the client and the validator, not the server.
import * as remote from './commands/remote-cli.js';

const { main } = remote.REMOTE_COMMANDS.includes(process.argv[2] ?? '') ? remote : await import('./cli.js');
await main(process.argv);
