// postject ships no types: the one function the single executable's build calls.
declare module "postject" {
  const postject: {
    inject(file: string, resourceName: string, resource: Buffer, options: { sentinelFuse: string; machoSegmentName?: string; overwrite?: boolean }): Promise<void>;
  };
  export default postject;
}
