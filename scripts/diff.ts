import { diffCommand } from "./lib/diff.ts";
import { main } from "./lib/shared/cli.ts";

await main(diffCommand);
