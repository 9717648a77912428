import { main } from "./lib/cli/main.ts";
import { createLaunchLinkCommand } from "./lib/publish/launch-link-command.ts";

await main(createLaunchLinkCommand());
