import { main } from "./lib/cli/main.ts";
import { diffCommand } from "./lib/diff/diff-command.ts";

await main(diffCommand);
