// Types for the TypeScript scripts and tests that share the build's CloudFormation YAML tags.
import type { Tags } from "yaml";

/** YAML tags for CloudFormation's short-form intrinsics, resolved to their long (JSON) form. */
export function cfnIntrinsicTags(): Tags;

/** The long-form expression `!SafeIamUserName` stands for: Ref pIamUserName with + = , @ turned into _. */
export function safeIamUserName(): unknown;

/** The long-form expression `!StackUuid` stands for: the UUID that ends the stack's ID. */
export function stackUuid(): unknown;
