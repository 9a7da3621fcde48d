/** One renderer per --output format; a new format is one file and one line here. */
import type { OutputFormat } from "../options.ts";
import { renderAsg } from "./asg.ts";
import { renderCloudFormation } from "./cloudformation.ts";
import type { Renderer } from "./context.ts";
import { renderEksctl } from "./eksctl.ts";
import { renderKops } from "./kops.ts";

export const RENDERERS: Readonly<Record<OutputFormat, Renderer>> = {
  kops: renderKops,
  asg: renderAsg,
  cloudformation: renderCloudFormation,
  eksctl: renderEksctl,
};
