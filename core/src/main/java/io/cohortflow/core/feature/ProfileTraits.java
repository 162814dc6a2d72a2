package io.cohortflow.core.feature;

import io.cohortflow.core.codec.FrozenMap;
import io.cohortflow.core.event.UnifiedEvent;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Computed traits: what activation needs of a user besides segments. The last {@link #MAX_VIEWED} products viewed
 * (most recent first, one entry per product), the cart's items (at most {@link #MAX_CART}; an order empties the cart,
 * a removal takes its product out, an item not touched for {@link #CART_KEPT_DAYS} days is dropped), and the user's
 * email and phone from identify traits, kept only as hashes normalised as ad platforms' customer-match rules require
 * ({@link #hashEmail}, {@link #hashPhone}): the clear text is never stored. Part of the feature state, so an
 * anonymous device's views and cart follow it into the known user at an identity merge.
 *
 * <p>Products come from the Segment e-commerce properties {@code product_id} (or {@code sku}), {@code name},
 * {@code category} and {@code price}; a product event without an id is not kept. Text is cut at
 * {@link #MAX_TEXT} characters, so a profile's traits stay under about 4 KB.
 */
public final class ProfileTraits {
    public static final int MAX_VIEWED = 10;
    /** Products, the most recent first, then by id. */
    private static final Comparator<Product> LATEST_FIRST =
            Comparator.comparingLong(Product::at).reversed().thenComparing(Product::id);
    public static final int MAX_CART = 20;
    public static final int CART_KEPT_DAYS = 30;
    static final int MAX_TEXT = 120;
    /** The event properties {@link #add} reads (its traits aside): a product's id, name, category and price. */
    public static final Set<String> PROPERTIES_READ = Set.of("product_id", "sku", "name", "category", "price");
    /** The identify traits {@link #add} reads: the contact details. */
    public static final Set<String> TRAITS_READ = Set.of("email", "phone");

    /** A product as an event described it, and when. */
    public record Product(String id, String name, String category, double price, long at) {
        /** The fields a destination gets: id, name, category, price (no time); unmodifiable. */
        public Map<String, Object> asMap() {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("product_id", id);
            if (name != null) {
                map.put("name", name);
            }
            if (category != null) {
                map.put("category", category);
            }
            if (!Double.isNaN(price)) {
                map.put("price", price);
            }
            return FrozenMap.owning(map);
        }
    }

    /** Most recent first. */
    private final List<Product> viewed = new ArrayList<>();
    /** By product id; the latest add of a product wins. */
    private final TreeMap<String, Product> cart = new TreeMap<>();
    private String emailSha256;
    private String phoneSha256;
    /** When the latest contact detail came (epoch ms), -1 when none: they are kept a year after it. */
    private long contactAt = -1;
    /**
     * {@link #asMap}, kept until what it shows changes (not state; null: not built since). The engine puts it in the
     * profile of every evaluation after an event, and most events change none of it (JFR: building it anew each time
     * was 4.5% of the engine's pass).
     */
    private Map<String, Object> shown;

    /** Takes in what an event says of the user's products and contact details. */
    public void add(UnifiedEvent event) {
        contact(event.traits(), event.timestamp());
        String name = event.event();
        if (name == null) {
            return;
        }
        switch (name) {
            case "product_view" -> product(event).ifPresent(this::viewed);
            case "add_to_cart" -> product(event).ifPresent(this::carted);
            case "remove_from_cart" -> product(event).ifPresent(p -> {
                Product inCart = cart.get(p.id());
                if (inCart != null && inCart.at() <= p.at()) {
                    cart.remove(p.id());
                    shown = null;
                }
            });
            case "order_completed" -> {
                if (cart.values().removeIf(p -> p.at() <= event.timestamp())) {
                    shown = null;
                }
            }
            default -> { }
        }
    }

    private void contact(Map<String, Object> traits, long t) {
        if (traits.get("email") instanceof String email && !email.isBlank()) { // TRAITS_READ
            emailSha256 = hashEmail(email);
            contactAt = Math.max(contactAt, t);
            shown = null;
        }
        Object phone = traits.get("phone");
        if (phone instanceof String || phone instanceof Number) {
            String hashed = hashPhone(phone.toString());
            if (hashed != null) {
                phoneSha256 = hashed;
                contactAt = Math.max(contactAt, t);
                shown = null;
            }
        }
    }

    /**
     * Whether contact details still hold the user's state as of {@code t}: for a year after they came, as long as any
     * feature reaches. So a user known only by an identify (a server's, with no behaviour yet) keeps their hashed email
     * for activation instead of being cleared at once.
     */
    boolean keepsContact(long t) {
        return contactAt >= 0 && t - contactAt < UserFeatures.LOOKBACK_DAYS * UserFeatures.DAY;
    }

    private static java.util.Optional<Product> product(UnifiedEvent event) {
        String id = event.stringProperty("product_id");
        id = id == null ? event.stringProperty("sku") : id;
        if (id == null || id.isBlank()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new Product(cut(id), cut(event.stringProperty("name")),
                cut(event.stringProperty("category")), event.numberProperty("price", Double.NaN), event.timestamp()));
    }

    private void viewed(Product product) {
        for (int i = 0; i < viewed.size(); i++) {
            if (viewed.get(i).id().equals(product.id())) {
                if (viewed.get(i).at() > product.at()) {
                    return; // a later view of it is kept already
                }
                viewed.remove(i);
                break;
            }
        }
        shown = null;
        viewed.add(product);
        viewed.sort(LATEST_FIRST);
        while (viewed.size() > MAX_VIEWED) {
            viewed.remove(viewed.size() - 1);
        }
    }

    private void carted(Product product) {
        shown = null;
        cart.merge(product.id(), product, (a, b) -> a.at() >= b.at() ? a : b);
        while (cart.size() > MAX_CART) {
            cart.values().remove(cart.values().stream().min(Comparator.comparingLong(Product::at)).orElseThrow());
        }
    }

    /** What the cart's items cost, as of {@code t}: those added within {@link #CART_KEPT_DAYS} days (no price: 0). */
    double cartValue(long t) {
        // Loops, not streams, here and below: these run at every snapshot, where building the streams was most of
        // their time (JFR: a third of the snapshot's own).
        long since = t - CART_KEPT_DAYS * UserFeatures.DAY;
        double sum = 0;
        for (Product p : cart.values()) {
            if (p.at() > since && p.at() <= t && !Double.isNaN(p.price())) {
                sum += p.price();
            }
        }
        return sum;
    }

    /** The highest price among the products viewed in {@code (t - window, t]}; 0 when none had a price. */
    double maxPriceViewed(long t, long window) {
        double max = 0;
        boolean any = false;
        for (Product p : viewed) {
            if (p.at() > t - window && p.at() <= t && !Double.isNaN(p.price())) {
                max = any ? Math.max(max, p.price()) : p.price();
                any = true;
            }
        }
        return max;
    }

    /**
     * Distinct categories viewed in {@code (t - window, t]} after the last add to cart ({@code lastAdd}), other than
     * the cart's own: browsing around what is in the cart. 0 with no add in the window ({@code lastAdd} -1: none, or
     * an order since).
     */
    long categoriesAfterCart(long t, long lastAdd, long window) {
        if (lastAdd < 0 || lastAdd > t || lastAdd <= t - window) {
            return 0;
        }
        java.util.Set<String> carted = new java.util.HashSet<>();
        cart.values().forEach(p -> carted.add(p.category()));
        java.util.Set<String> around = new java.util.HashSet<>();
        for (Product p : viewed) {
            if (p.at() > lastAdd && p.at() <= t && p.category() != null && !carted.contains(p.category())) {
                around.add(p.category());
            }
        }
        return around.size();
    }

    /** The first moment after {@code t} a view leaves the {@code window} or a cart item its 30 days. */
    long nextChange(long t, long window) {
        long next = Long.MAX_VALUE;
        for (Product p : viewed) {
            if (p.at() + window > t) {
                next = Math.min(next, p.at() + window);
            }
        }
        for (Product p : cart.values()) {
            long leaves = p.at() + CART_KEPT_DAYS * UserFeatures.DAY;
            if (leaves > t) {
                next = Math.min(next, leaves);
            }
        }
        long contactEnds = contactAt + UserFeatures.LOOKBACK_DAYS * UserFeatures.DAY;
        if (contactAt >= 0 && contactEnds > t) {
            next = Math.min(next, contactEnds);
        }
        return next;
    }

    /** Drops cart items older than {@link #CART_KEPT_DAYS} days at {@code t}. */
    void prune(long t) {
        if (cart.isEmpty()) {
            return; // on most calls (every event and every moment a window moves)
        }
        long before = t - CART_KEPT_DAYS * UserFeatures.DAY;
        if (cart.values().removeIf(p -> p.at() <= before)) {
            shown = null;
        }
    }

    /** Another id's traits (an anonymous device's) folded into this user's: the newest views, both carts. */
    void merge(ProfileTraits other) {
        other.viewed.forEach(this::viewed);
        other.cart.values().forEach(this::carted);
        emailSha256 = emailSha256 == null ? other.emailSha256 : emailSha256;
        phoneSha256 = phoneSha256 == null ? other.phoneSha256 : phoneSha256;
        contactAt = Math.max(contactAt, other.contactAt);
        shown = null;
    }

    public List<Product> viewed() {
        return List.copyOf(viewed);
    }

    /** The cart's items, most recently added first. */
    public List<Product> cart() {
        List<Product> items = new ArrayList<>(cart.values());
        items.sort(LATEST_FIRST);
        return items;
    }

    public String emailSha256() {
        return emailSha256;
    }

    public String phoneSha256() {
        return phoneSha256;
    }

    public boolean isEmpty() {
        return viewed.isEmpty() && cart.isEmpty() && emailSha256 == null && phoneSha256 == null;
    }

    /**
     * The profile's {@code traits}: {@code viewed_products} and {@code cart_items} (lists of product_id, name,
     * category, price), {@code email_sha256} and {@code phone_sha256} when known. Empty parts are left out.
     * Unmodifiable, and the same map until the traits change.
     */
    public Map<String, Object> asMap() {
        if (shown == null) {
            shown = build();
        }
        return shown;
    }

    private Map<String, Object> build() {
        Map<String, Object> map = new LinkedHashMap<>();
        if (!viewed.isEmpty()) {
            map.put("viewed_products", viewed.stream().map(Product::asMap).toList());
        }
        if (!cart.isEmpty()) {
            map.put("cart_items", cart().stream().map(Product::asMap).toList());
        }
        if (emailSha256 != null) {
            map.put("email_sha256", emailSha256);
        }
        if (phoneSha256 != null) {
            map.put("phone_sha256", phoneSha256);
        }
        return FrozenMap.owning(map);
    }

    /** SHA-256 (hex) of the email trimmed and lower-cased, as Google's and Meta's customer match expect. */
    public static String hashEmail(String email) {
        return sha256(email.trim().toLowerCase(Locale.ROOT));
    }

    /**
     * SHA-256 (hex) of the phone number in E.164 form: digits only, with a leading {@code +} (spaces, dashes, dots and
     * parentheses removed; a leading {@code 00} read as {@code +}). Null when fewer than 7 digits remain: no hash of
     * a number that cannot match.
     */
    public static String hashPhone(String phone) {
        String trimmed = phone.trim();
        String digits = trimmed.replaceAll("[^0-9]", "");
        if (!trimmed.startsWith("+") && digits.startsWith("00")) {
            digits = digits.substring(2);
        }
        digits = digits.replaceFirst("^0+", "");
        return digits.length() < 7 ? null : sha256("+" + digits);
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static String cut(String text) {
        return text == null || text.length() <= MAX_TEXT ? text : text.substring(0, MAX_TEXT);
    }

    // ---- binary form (inside the feature state) ------------------------------------------------------------------

    void writeTo(DataOutput out) throws IOException {
        out.writeByte(viewed.size());
        for (Product p : viewed) {
            writeProduct(out, p);
        }
        out.writeByte(cart.size());
        for (Product p : cart.values()) {
            writeProduct(out, p);
        }
        writeNullable(out, emailSha256);
        writeNullable(out, phoneSha256);
        out.writeLong(contactAt);
    }

    /** {@code format}: the feature state's; format 3 had no contact time (its details are then kept a year from now). */
    static ProfileTraits readFrom(DataInput in, int format, long now) throws IOException {
        ProfileTraits traits = new ProfileTraits();
        int views = in.readUnsignedByte();
        for (int i = 0; i < views; i++) {
            traits.viewed.add(readProduct(in));
        }
        int items = in.readUnsignedByte();
        for (int i = 0; i < items; i++) {
            Product p = readProduct(in);
            traits.cart.put(p.id(), p);
        }
        traits.emailSha256 = readNullable(in);
        traits.phoneSha256 = readNullable(in);
        boolean contact = traits.emailSha256 != null || traits.phoneSha256 != null;
        traits.contactAt = format >= 4 ? in.readLong() : contact ? now : -1;
        return traits;
    }

    private static void writeProduct(DataOutput out, Product p) throws IOException {
        out.writeUTF(p.id());
        writeNullable(out, p.name());
        writeNullable(out, p.category());
        out.writeDouble(p.price());
        out.writeLong(p.at());
    }

    private static Product readProduct(DataInput in) throws IOException {
        return new Product(in.readUTF(), readNullable(in), readNullable(in), in.readDouble(), in.readLong());
    }

    private static void writeNullable(DataOutput out, String value) throws IOException {
        out.writeBoolean(value != null);
        if (value != null) {
            out.writeUTF(value);
        }
    }

    private static String readNullable(DataInput in) throws IOException {
        return in.readBoolean() ? in.readUTF() : null;
    }
}
