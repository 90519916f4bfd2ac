//! Prints the checker's report on a wrong answer, for the book:
//! `cargo run -p exercises --example checker_demo`.

fn main() {
    print!("{}", exercises::demo::checker_demo());
}
