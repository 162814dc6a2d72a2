package io.cohortflow.console.web;

import io.cohortflow.console.api.ConsoleApi;
import io.cohortflow.console.api.Tokens;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The console's pages: server-rendered HTML shells, one small script each (console/static), and uPlot from its WebJar.
 * No JavaScript toolchain: the files are served as they are in the jar. A page needs the session cookie that
 * {@code /login} sets from a token; without it the browser is sent to {@code /login}.
 */
public final class Pages {
    private static final Map<String, String> PAGES = Map.of(
            "/", "segments.html",
            "/segments", "segments.html",
            "/editor", "editor.html",
            "/profiles", "profile.html",
            "/models", "models.html",
            "/dead-letters", "dead-letters.html");

    private final Tokens tokens;
    private final String registry;

    public Pages(Tokens tokens, String registry) {
        this.tokens = tokens;
        this.registry = registry;
    }

    public void mount(Router router) {
        router.route("/static/*").handler(StaticHandler.create("console/static").setCachingEnabled(false));
        router.route("/webjars/*").handler(StaticHandler.create("META-INF/resources/webjars"));
        router.get("/login").handler(ctx -> html(ctx, 200, page("login.html")));
        router.post("/login").handler(BodyHandler.create().setBodyLimit(4096)).handler(this::login);
        router.post("/logout").handler(ctx -> {
            if (!ConsoleApi.fromThisSite(ctx)) {
                ctx.response().setStatusCode(403).end();
                return;
            }
            ctx.response().addCookie(Cookie.cookie(ConsoleApi.COOKIE, "").setPath("/").setMaxAge(0));
            redirect(ctx, "/login");
        });
        PAGES.forEach((path, file) -> router.get(path).handler(ctx -> {
            if (tokens.check(ConsoleApi.presented(ctx)).isEmpty()) {
                redirect(ctx, "/login");
                return;
            }
            html(ctx, 200, page(file).replace("<!--header-->", header(path)));
        }));
    }

    private void login(RoutingContext ctx) {
        if (!ConsoleApi.fromThisSite(ctx)) {
            html(ctx, 403, page("login.html").replace("<!--error-->",
                    "<p class=\"error\" role=\"alert\">Sign in from this console's own page.</p>"));
            return;
        }
        String token = ctx.request().getFormAttribute("token");
        if (tokens.check(token).isEmpty()) {
            html(ctx, 401, page("login.html").replace("<!--error-->",
                    "<p class=\"error\" role=\"alert\">That token is not one of this console's.</p>"));
            return;
        }
        ctx.response().addCookie(Cookie.cookie(ConsoleApi.COOKIE, token.trim()).setPath("/").setHttpOnly(true)
                .setSameSite(CookieSameSite.STRICT));
        redirect(ctx, "/segments");
    }

    private static final java.util.List<String[]> NAV = java.util.List.of(
            new String[]{"/segments", "Segments"}, new String[]{"/editor", "New segment"},
            new String[]{"/profiles", "Profiles"}, new String[]{"/models", "Models"},
            new String[]{"/dead-letters", "Dead letters"});

    /** The header every page shares, with the current page marked for assistive technology. */
    private static String header(String path) {
        StringBuilder nav = new StringBuilder();
        for (String[] item : NAV) {
            boolean here = item[0].equals(path) || path.equals("/") && item[0].equals("/segments");
            nav.append("<li><a href=\"").append(item[0]).append('"').append(here ? " aria-current=\"page\"" : "")
                    .append('>').append(item[1]).append("</a></li>");
        }
        return "<a class=\"visually-hidden\" href=\"#main\">Skip to content</a><header><span class=\"brand\">"
                + "cohortflow console</span><nav aria-label=\"Main\"><ul>" + nav + "</ul></nav>"
                + "<form method=\"post\" action=\"/logout\"><button type=\"submit\" class=\"secondary\">"
                + "Sign out</button></form></header>";
    }

    private static void redirect(RoutingContext ctx, String to) {
        ctx.response().setStatusCode(303).putHeader("Location", to).end();
    }

    private static void html(RoutingContext ctx, int status, String body) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", "text/html; charset=utf-8")
                .putHeader("Cache-Control", "no-store")
                .putHeader("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'")
                .end(body);
    }

    private static String page(String file) {
        try (InputStream in = Pages.class.getClassLoader().getResourceAsStream("console/pages/" + file)) {
            if (in == null) {
                throw new IllegalStateException("no page console/pages/" + file + " in the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
