package io.istio4j.pilot.eurekatest;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.cloud.netflix.eureka.server.EnableEurekaServer;

/**
 * A standalone Eureka server for tests: {@code java -jar istio4j-pilot-eureka-test-server.jar
 * --server.port=PORT}. It serves Eureka's REST API under {@code /eureka} (Spring Cloud's layout,
 * {@code /eureka/apps}), not registering with itself, with its response cache off and fast eviction
 * so that a test sees each register, renew and cancel at once.
 */
@SpringBootApplication
@EnableEurekaServer
public class EurekaTestServer {
  public static void main(String[] args) {
    SpringApplication.run(EurekaTestServer.class, args);
  }
}
