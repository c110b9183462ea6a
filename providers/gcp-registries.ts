// The registries Google's tokens are for, on their own so that the provider registry can name them
// without loading the GCP provider (providers/registry.ts).

/** The registries Google's tokens are for (upstream's containerRegistryUrls), besides the image's own. */
export const GCP_REGISTRY_KEYS: readonly string[] = ["container.cloud.google.com", "gcr.io", "*.gcr.io", "*.pkg.dev"];
