/**
 * The contract between generated template code and the Mixer runtime. Adapter authors do not use
 * this package; the template code generator writes its implementations (one {@link
 * io.istio4j.adapter.template.Template} per template, registered with {@link
 * java.util.ServiceLoader}) and the runtime calls them.
 */
package io.istio4j.adapter.template;
