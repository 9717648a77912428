/** AWS's own "Launch Stack" button image, used by AWS samples and docs. */
export const LAUNCH_STACK_IMAGE =
  "https://s3.amazonaws.com/cloudformation-examples/cloudformation-launch-stack.png";

/**
 * A Markdown "Launch Stack" button linking to a quick-create URL. The URL must be strictly encoded
 * (no parentheses), as `quickCreateUrl` makes it, so the Markdown link cannot break.
 */
export function launchStackMarkdown(quickCreateUrl: string): string {
  return `[![Launch Stack](${LAUNCH_STACK_IMAGE})](${quickCreateUrl})`;
}
