/**
 * The steps of a Mixer build (build-tools/mixer-build) that need Java: checking what a build lists,
 * writing the distribution's launcher and merged ServiceLoader files, and assembling the image's
 * runtime. They run on the distribution's own class path, so they see exactly what mixs will.
 */
package io.istio4j.mixer.server.dist;
